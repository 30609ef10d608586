/**
 * The `script` engine (Salt's `salt/engines/script.py`): runs `cmd` every
 * `interval` seconds; each line it prints (standard error too) is read with
 * the `output` serializer, and a line with a `tag` fires its `data`
 * (`id` added when missing). With `onchange`, an event equal to the last one
 * of its tag is not fired again.
 *
 * @module
 */
import { parse as parseYaml } from "npm:yaml@2.9.1";
import type { EngineContext } from "./engine_context.ts";

/** Options of the script engine (Salt's names and defaults). */
export interface ScriptOptions {
  /** The command line, split like Python's `shlex.split`. */
  cmd: string;
  /** The serializer of each line: `json` (default) or `yaml`. */
  output?: string;
  /** Seconds between runs (default 1). */
  interval?: number;
  /** Fire only when an event's data changed for its tag (default false). */
  onchange?: boolean;
}

/**
 * Splits a command line as Python's `shlex.split` (POSIX mode).
 *
 * @throws {Error} for an unclosed quote (Python: `No closing quotation`).
 * @example
 * ```ts
 * import { shlexSplit } from "./script.ts";
 * shlexSplit(`sh -c 'echo "a b"'`); // ["sh", "-c", 'echo "a b"']
 * ```
 */
export function shlexSplit(line: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = c === "'" ? line.indexOf("'", i + 1) : closingDouble(line, i + 1);
      if (end < 0) throw new Error(`No closing quotation in ${JSON.stringify(line)}`);
      const inner = line.slice(i + 1, end);
      word = (word ?? "") + (c === '"' ? inner.replace(/\\(["\\$`\n])/g, "$1") : inner);
      i = end + 1;
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      if (word !== null) out.push(word);
      word = null;
      i++;
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

function closingDouble(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === '"') return i;
  }
  return -1;
}

function serializer(output: string): (line: string) => unknown {
  if (output === "json") return (line) => JSON.parse(line);
  if (output === "yaml") return (line) => parseYaml(line);
  throw new Error(`Unknown serializer \`${output}\` found for output option`);
}

/**
 * Runs the command in a loop until `ctx.signal` aborts.
 *
 * @example
 * ```ts
 * import { start } from "./script.ts";
 * import type { EngineContext } from "./engine_context.ts";
 * declare const ctx: EngineContext;
 * await start({ cmd: "/srv/scripts/inventory.sh", interval: 60 }, ctx);
 * ```
 */
export async function start(options: ScriptOptions, ctx: EngineContext): Promise<void> {
  if (typeof options.cmd !== "string" || options.cmd === "") {
    throw new Error("script: the cmd option is required");
  }
  const deserialize = serializer(options.output ?? "json");
  const argv = shlexSplit(options.cmd);
  const interval = options.interval ?? 1;
  const last = new Map<string, string>();
  const id = ctx.opts.id;
  while (!ctx.signal.aborted) {
    const onLine = async (line: string) => {
      if (line.trim() === "") return;
      let event: unknown;
      try {
        event = deserialize(line);
      } catch (err) {
        ctx.log.debug(`script: not ${options.output ?? "json"}: ${line} (${err})`);
        return;
      }
      if (typeof event !== "object" || event === null || !("tag" in event)) return;
      const { tag, data: raw } = event as { tag: unknown; data?: unknown };
      const data: Record<string, unknown> = typeof raw === "object" && raw !== null
        ? { ...raw as Record<string, unknown> }
        : {};
      if (Object.keys(data).length > 0 && !("id" in data)) data.id = id;
      if (options.onchange) {
        const key = JSON.stringify(data);
        if (last.get(String(tag)) === key) return;
        last.set(String(tag), key);
      }
      await ctx.fire(String(tag), data);
    };
    try {
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: ctx.signal,
      }).spawn();
      await Promise.all([readLines(child.stdout, onLine), readLines(child.stderr, onLine)]);
      const status = await child.status;
      if (!status.success && !ctx.signal.aborted) {
        ctx.log.error(`script: ${options.cmd} exited with status ${status.code}`);
      }
    } catch (err) {
      if (ctx.signal.aborted) break;
      if (err instanceof Deno.errors.NotCapable) {
        throw new Error(`script: running commands needs Deno's --allow-run: ${err.message}`);
      }
      ctx.log.error(`script: running ${options.cmd} failed: ${err}`);
    }
    await ctx.sleep(interval * 1000);
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => Promise<void>,
): Promise<void> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      await onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== "") await onLine(rest);
}
