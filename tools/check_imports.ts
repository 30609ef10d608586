/**
 * The house rules for imports, checked from Deno's own module graph
 * (`deno info --json`): no import cycle between files, folders import only
 * from the folders below them, and nothing imports `mod.ts`.
 *
 * ```sh
 * deno run --allow-read --allow-run --allow-write tools/check_imports.ts
 * ```
 *
 * Exits 1 and prints every cycle and every upward import it finds.
 *
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, relative } from "node:path";

/**
 * The folders of the house from the top down. A folder may import from the
 * folders after it in this list, never from those before it.
 */
export const LAYERS: readonly string[] = [
  "tools",
  "bench",
  "tests",
  "cli",
  "workers",
  "master",
  "minion",
  "engines",
  "reactor",
  "api",
  "proxy",
  "wheel",
  "runners",
  "returners",
  "jobs",
  "modules",
  "link",
  "broker",
  "transport",
  "output",
  "bus",
];

/** Top-level files: entry points for users, importing anything below them. */
const ROOT_FILES = new Set(["mod.ts", "cli.ts"]);

/** One import that breaks the house rules. */
export interface ImportProblem {
  /** What is wrong, in one line. */
  message: string;
}

/**
 * Finds the cycles (strongly connected components of more than one file, or a
 * file importing itself) of a graph given as adjacency lists.
 *
 * @example
 * ```ts
 * import { findCycles } from "./check_imports.ts";
 * const cycles = findCycles(new Map([["a", ["b"]], ["b", ["a"]], ["c", []]]));
 * console.log(cycles); // [["a", "b"]]
 * ```
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++];
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = edges.includes(frame.node);
        if (component.length > 1 || selfLoop) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/**
 * The layer rule for one import from file `from` to file `to` (paths relative
 * to the project root): `undefined` when it is allowed, else what is wrong.
 *
 * @example
 * ```ts
 * import { layerProblem } from "./check_imports.ts";
 * console.log(layerProblem("bus/frame.ts", "cli/main.ts")); // "bus/frame.ts imports cli/main.ts: bus/ is below cli/"
 * console.log(layerProblem("cli/main.ts", "bus/frame.ts")); // undefined
 * ```
 */
export function layerProblem(from: string, to: string): string | undefined {
  if (ROOT_FILES.has(from)) return undefined;
  // Tests, benchmarks and tools are users of the library: they may import its
  // entry points and the test harness, and nothing imports them.
  const isUser = /^(tests|bench|tools)\//.test(from) || from.endsWith("_test.ts");
  if (isUser && (ROOT_FILES.has(to) || to.startsWith("tests/"))) return undefined;
  if (to === "mod.ts") return `${from} imports mod.ts, which exists for users only`;
  const fromLayer = from.split("/")[0];
  const toLayer = to.split("/")[0];
  if (ROOT_FILES.has(to)) return `${from} imports ${to}, a user entry point`;
  if (fromLayer === toLayer) return undefined;
  const fromRank = LAYERS.indexOf(fromLayer);
  const toRank = LAYERS.indexOf(toLayer);
  if (fromRank < 0) return `${from} is in ${fromLayer}/, which is not a layer of the house`;
  if (toRank < 0) return `${to} is in ${toLayer}/, which is not a layer of the house`;
  if (toRank < fromRank) return `${from} imports ${to}: ${fromLayer}/ is below ${toLayer}/`;
  return undefined;
}

/** Every project `.ts` file below `root`, relative, skipping hidden folders and `dist/`. */
async function sourceFiles(root: string, dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    if (entry.name.startsWith(".") || entry.name === "dist" || entry.name === "node_modules") {
      continue;
    }
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) files.push(...await sourceFiles(root, path));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/**
 * Reads the project's module graph with `deno info --json` and returns each
 * project file's static imports of other project files.
 */
async function moduleGraph(root: string): Promise<Map<string, string[]>> {
  const files = await sourceFiles(root);
  const scratch = await Deno.makeTempDir({ prefix: "saltbus-imports-" });
  try {
    const entry = join(scratch, "all.ts");
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(pathToFileURL(join(root, f)).href)};`).join("\n"),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(root, "deno.json"), entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: Array<
        {
          specifier: string;
          dependencies?: Array<{ code?: { specifier?: string }; type?: { specifier?: string } }>;
        }
      >;
    };
    const graph = new Map<string, string[]>();
    const project = (specifier: string | undefined): string | undefined => {
      if (!specifier?.startsWith("file:")) return undefined;
      const rel = relative(root, fileURLToPath(specifier));
      return rel.startsWith("..") ? undefined : rel;
    };
    for (const module of info.modules) {
      const from = project(module.specifier);
      if (!from) continue;
      const deps = (module.dependencies ?? [])
        .flatMap((d) => [project(d.code?.specifier), project(d.type?.specifier)])
        .filter((d): d is string => d !== undefined);
      graph.set(from, [...new Set(deps)]);
    }
    return graph;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

/**
 * Checks the project at `root`: every cycle and every import against the
 * layer order.
 *
 * @example
 * ```ts ignore
 * import { checkImports } from "./check_imports.ts";
 * const problems = await checkImports(".");
 * for (const p of problems) console.error(p.message);
 * ```
 */
export async function checkImports(root: string): Promise<ImportProblem[]> {
  const graph = await moduleGraph(root);
  const problems: ImportProblem[] = [];
  for (const cycle of findCycles(graph)) {
    problems.push({ message: `import cycle: ${cycle.join(" ↔ ")}` });
  }
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const problem = layerProblem(from, to);
      if (problem) problems.push({ message: problem });
    }
  }
  return problems;
}

if (import.meta.main) {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const problems = await checkImports(root);
  for (const p of problems) console.error(p.message);
  if (problems.length > 0) {
    console.error(`check_imports: ${problems.length} problem(s)`);
    Deno.exit(1);
  }
  console.log("check_imports: no cycles, every import points down");
}
