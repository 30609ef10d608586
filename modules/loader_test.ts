import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger, type Logger, type MessageLevel } from "../bus/log.ts";
import { ArgumentError, CommandNotFoundError, LoaderClosedError } from "./errors.ts";
import { kwargs } from "./kwargs.ts";
import { loadModules } from "./loader.ts";

/** A logger that keeps its lines. */
function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger("debug", (level: MessageLevel, msg: string) => {
    lines.push(`${level}: ${msg}`);
  });
  return { log, lines };
}

/** Writes module files into a fresh temp dir and runs `fn`; removes the dir. */
async function withModuleDir(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus_modules_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GREETER = `
/** Greets someone. */
export function hello(this: { grains: Record<string, unknown> }, name = "world") {
  return \`hello \${name} from \${this.grains.id}\`;
}

/** Cross-calls test.echo and grains.get through this.salt. */
export async function relay(this: { salt: Record<string, (...a: unknown[]) => unknown> }, text: string) {
  const echoed = await this.salt["test.echo"](text);
  const role = await this.salt["grains.get"]("role");
  return { echoed, role, fun: (this as unknown as { fun: string }).fun };
}

/** Cross-calls with keyword markers. */
export async function marked(this: { salt: Record<string, (...a: unknown[]) => unknown> }) {
  return await this.salt["test.arg"](1, { x: 2, __kwarg__: true });
}

export function _private() {
  return "hidden";
}

export const NOT_A_FUNCTION = 42;

export class NotAFunctionEither {}
`;

Deno.test("loadModules() loads the built-in modules", async () => {
  await using loader = await loadModules({ opts: { id: "m1" }, moduleDirs: [] });
  for (const fun of ["test.ping", "test.echo", "test.arg", "test.version", "test.sleep"]) {
    assert.ok(loader.has(fun), fun);
  }
  for (const fun of ["grains.items", "grains.get", "grains.item", "sys.doc", "sys.list_modules"]) {
    assert.ok(loader.has(fun), fun);
  }
  assert.deepEqual(loader.modules().filter((m) => m !== "event"), [
    "grains",
    "pillar",
    "saltutil",
    "sys",
    "test",
  ]);
  assert.deepEqual(loader.functions(), [...loader.functions()].sort());
  assert.equal(await loader.call("test.ping"), true);
  assert.equal(await loader.salt["test.echo"]("hi"), "hi");
  assert.deepEqual(loader.errors, []);
});

Deno.test("salt mapping: unknown names throw Salt's message, `in` works, writes fail", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.equal("test.ping" in loader.salt, true);
  assert.equal("foo.bar" in loader.salt, false);
  assert.throws(() => loader.salt["foo.bar"], (err: unknown) => {
    assert.ok(err instanceof CommandNotFoundError);
    assert.equal(err.message, "'foo.bar' is not available.");
    return true;
  });
  await assert.rejects(loader.call("foo.bar"), {
    name: "CommandNotFoundError",
    message: "'foo.bar' is not available.",
  });
  assert.throws(() => loader.acceptsKwargs("foo.bar"), CommandNotFoundError);
  // Not a thenable, so it can be returned from async functions.
  assert.equal((loader.salt as unknown as { then?: unknown }).then, undefined);
  assert.ok(Object.keys(loader.salt).includes("test.ping"));
  assert.throws(() => {
    (loader.salt as Record<string, unknown>)["test.ping"] = () => false;
  }, TypeError);
  assert.equal(await loader.salt["test.ping"](), true);
});

Deno.test("Loader.call() and salt[...] bind arguments and raise ArgumentError", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  await assert.rejects(loader.call("test.ping", [1]), {
    name: "ArgumentError",
    message: "test.ping() takes 0 positional arguments but 1 was given",
  });
  await assert.rejects(async () => await loader.salt["test.echo"](), {
    name: "ArgumentError",
    message: "test.echo() missing 1 required positional argument: 'text'",
  });
  await assert.rejects(async () => await loader.salt["test.ping"](kwargs({ x: 1 })), ArgumentError);
  assert.equal(await loader.call("test.echo", [], { text: "kw" }), "kw");
  assert.deepEqual(await loader.salt["test.arg"](1, "two", kwargs({ a: 3 })), {
    args: [1, "two"],
    kwargs: { a: 3 },
  });
  assert.deepEqual(await loader.salt["test.arg"](1, { a: 3, __kwarg__: true }), {
    args: [1],
    kwargs: { a: 3 },
  });
  // A plain trailing object is positional.
  assert.deepEqual(await loader.salt["test.arg"]("t", { a: 3 }), {
    args: ["t", { a: 3 }],
    kwargs: {},
  });
});

Deno.test("Loader.acceptsKwargs() tells which functions take **kwargs", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.equal(loader.acceptsKwargs("test.arg"), true);
  assert.equal(loader.acceptsKwargs("test.ping"), false);
  assert.equal(loader.acceptsKwargs("test.echo"), false);
});

Deno.test("custom modules load from module_dirs and cross-call through this.salt", async () => {
  await withModuleDir({ "greeter.ts": GREETER }, async (dir) => {
    await using loader = await loadModules({
      opts: { id: "web1", module_dirs: [dir], grains: { role: "web" } },
    });
    assert.deepEqual(loader.errors, []);
    assert.deepEqual(loader.functions().filter((f) => f.startsWith("greeter.")), [
      "greeter.hello",
      "greeter.marked",
      "greeter.relay",
    ]);
    assert.equal(await loader.call("greeter.hello"), "hello world from web1");
    assert.equal(await loader.salt["greeter.hello"]("bob"), "hello bob from web1");
    assert.deepEqual(await loader.call("greeter.relay", ["ping"]), {
      echoed: "ping",
      role: "web",
      fun: "greeter.relay",
    });
    assert.deepEqual(await loader.call("greeter.marked"), { args: [1], kwargs: { x: 2 } });
    assert.ok(loader.modules().includes("greeter"));
  });
});

Deno.test("module_dirs may be a single string; moduleDirs wins over opts", async () => {
  await withModuleDir({ "greeter.ts": GREETER }, async (dir) => {
    await using a = await loadModules({ opts: { module_dirs: dir } });
    assert.ok(a.has("greeter.hello"));
    await using b = await loadModules({ opts: { module_dirs: dir }, moduleDirs: [] });
    assert.equal(b.has("greeter.hello"), false);
  });
});

Deno.test("a module that fails to load is reported with its path; the others still load", async () => {
  await withModuleDir({
    "a_good.ts": `export function ok() { return "ok"; }`,
    "b_syntax.ts": `export function broken( { return 1; }`,
    "c_throws.js": `throw new Error("boom at import");\nexport function never() {}`,
    "d_good.js": `export function fine() { return "fine"; }`,
    "_helper.ts": `export function skipped() {}`,
    "notes.txt": `not a module`,
    "types.d.ts": `export declare function nope(): void;`,
  }, async (dir) => {
    const { log, lines } = recordingLogger();
    const missing = join(dir, "does-not-exist");
    await using loader = await loadModules({ opts: {}, moduleDirs: [dir, missing], log });
    assert.equal(await loader.call("a_good.ok"), "ok");
    assert.equal(await loader.call("d_good.fine"), "fine");
    assert.equal(loader.has("c_throws.never"), false);
    assert.equal(loader.has("_helper.skipped"), false);
    assert.equal(loader.modules().includes("types"), false);
    const byPath = new Map(loader.errors.map((e) => [e.path, e.error]));
    assert.deepEqual(
      [...byPath.keys()].sort(),
      [
        join(dir, "b_syntax.ts"),
        join(dir, "c_throws.js"),
        missing,
      ].sort(),
    );
    assert.match(byPath.get(join(dir, "b_syntax.ts"))!, /SyntaxError/);
    assert.match(byPath.get(join(dir, "c_throws.js"))!, /boom at import/);
    assert.match(byPath.get(missing)!, /cannot read module directory/);
    const warnings = lines.filter((l) => l.startsWith("warning: "));
    assert.equal(warnings.length, 3);
    assert.ok(warnings.some((l) => l.includes(join(dir, "c_throws.js")) && l.includes("boom")));
  });
});

Deno.test("__virtualname__ renames a module; __virtual__ can disable or rename it", async () => {
  await withModuleDir({
    "linux_pkg.ts":
      `export const __virtualname__ = "pkg";\nexport function name() { return "pkg"; }`,
    "off.ts": `export function __virtual__() { return false; }\nexport function f() {}`,
    "off_reason.ts":
      `export function __virtual__() { return [false, "needs foo"]; }\nexport function f() {}`,
    "on.ts":
      `export function __virtual__(this: { grains: Record<string, unknown> }) { return this.grains.kernel === "Linux" || this.grains.kernel !== "Linux"; }\nexport function f() { return "on"; }`,
    "renamed.ts":
      `export async function __virtual__() { return "other"; }\nexport function f() { return "other"; }`,
    "virtual_throws.ts":
      `export function __virtual__() { throw new Error("nope"); }\nexport function f() {}`,
  }, async (dir) => {
    const { log, lines } = recordingLogger();
    await using loader = await loadModules({ opts: {}, moduleDirs: [dir], log });
    assert.equal(await loader.call("pkg.name"), "pkg");
    assert.equal(loader.has("linux_pkg.name"), false);
    assert.equal(loader.has("off.f"), false);
    assert.equal(loader.has("off_reason.f"), false);
    assert.equal(await loader.call("on.f"), "on");
    assert.equal(await loader.call("other.f"), "other");
    assert.equal(loader.has("renamed.f"), false);
    assert.equal(loader.has("virtual_throws.f"), false);
    assert.deepEqual(loader.errors.map((e) => e.path), [join(dir, "virtual_throws.ts")]);
    assert.match(loader.errors[0].error, /__virtual__\(\) failed: Error: nope/);
    assert.ok(lines.some((l) => l.startsWith("info: ") && l.includes("needs foo")));
    assert.equal(loader.has("on.__virtual__"), false);
  });
});

Deno.test("a custom module overrides the built-in functions of the same name and adds others", async () => {
  await withModuleDir({
    "test.ts":
      `export function ping() { return "custom pong"; }\nexport function extra() { return 1; }`,
  }, async (dir) => {
    await using loader = await loadModules({ opts: {}, moduleDirs: [dir] });
    assert.equal(await loader.call("test.ping"), "custom pong");
    assert.equal(await loader.call("test.extra"), 1);
    assert.equal(await loader.call("test.echo", ["still built-in"]), "still built-in");
  });
});

Deno.test("grains default to core grains with static grains from opts; pillar from opts", async () => {
  await using loader = await loadModules({
    opts: { id: "m9", grains: { role: "db", os: "Overridden" }, pillar: { secret: 1 } },
    moduleDirs: [],
  });
  assert.equal(loader.grains.id, "m9");
  assert.equal(loader.grains.role, "db");
  assert.equal(loader.grains.os, "Overridden");
  assert.equal(loader.grains.num_cpus, navigator.hardwareConcurrency);
  assert.deepEqual(loader.pillar, { secret: 1 });
  await using given = await loadModules({ opts: {}, grains: { only: true }, moduleDirs: [] });
  assert.deepEqual(given.grains, { only: true });
  assert.deepEqual(given.pillar, {});
});

Deno.test("resources are shared across calls and disposed when the loader closes", async () => {
  await withModuleDir({
    "counter.ts": `
class Res {
  count = 0;
  disposed = 0;
  async [Symbol.asyncDispose]() { (globalThis as any).__saltbus_disposed = ((globalThis as any).__saltbus_disposed ?? 0) + 1; }
}
export function bump(this: { resources: { get(k: string, c: () => Res): Res } }) {
  return ++this.resources.get("counter", () => new Res()).count;
}
`,
  }, async (dir) => {
    const g = globalThis as { __saltbus_disposed?: number };
    delete g.__saltbus_disposed;
    const loader = await loadModules({ opts: {}, moduleDirs: [dir] });
    assert.equal(await loader.call("counter.bump"), 1);
    assert.equal(await loader.call("counter.bump"), 2);
    assert.equal(g.__saltbus_disposed, undefined);
    await loader.close();
    assert.equal(g.__saltbus_disposed, 1);
    await loader.close();
    assert.equal(g.__saltbus_disposed, 1, "close() is idempotent");
    await assert.rejects(loader.call("counter.bump"), LoaderClosedError);
    delete g.__saltbus_disposed;
  });
});

Deno.test("every function gets a context with opts, grains, pillar, salt, log and its name", async () => {
  await withModuleDir({
    "ctx.ts": `export function show(this: any) {
  return {
    fun: this.fun,
    id: this.opts.id,
    grain: this.grains.role,
    pillar: this.pillar.p,
    hasSalt: "test.ping" in this.salt,
    hasLog: typeof this.log.info === "function",
    frozen: Object.isFrozen(this),
  };
}`,
  }, async (dir) => {
    await using loader = await loadModules({
      opts: { id: "c1", grains: { role: "r" }, pillar: { p: "v" } },
      moduleDirs: [dir],
    });
    assert.deepEqual(await loader.call("ctx.show"), {
      fun: "ctx.show",
      id: "c1",
      grain: "r",
      pillar: "v",
      hasSalt: true,
      hasLog: true,
      frozen: true,
    });
  });
});

Deno.test("errors thrown by a function propagate unchanged", async () => {
  await withModuleDir({
    "bad.ts":
      `export class MyError extends Error {}\nexport function fail() { throw new RangeError("nope"); }`,
  }, async (dir) => {
    await using loader = await loadModules({ opts: {}, moduleDirs: [dir] });
    await assert.rejects(loader.call("bad.fail"), RangeError);
    assert.equal(loader.has("bad.MyError"), false);
  });
});

Deno.test("loadModules() rejects module_dirs, grains or pillar of the wrong shape with ConfigError", async () => {
  await assert.rejects(loadModules({ opts: { module_dirs: 5 } }), {
    name: "ConfigError",
    message: "module_dirs: expected a directory or a list of directories, got 5",
  });
  await assert.rejects(loadModules({ opts: { grains: ["a"] } }), {
    name: "ConfigError",
    message: 'grains: expected a mapping, got ["a"]',
  });
  await assert.rejects(loadModules({ opts: { pillar: "x" } }), {
    name: "ConfigError",
    message: 'pillar: expected a mapping, got "x"',
  });
});

Deno.test("Python modules in module_dirs get one warning that only TypeScript and JavaScript load", async () => {
  await withModuleDir(
    { "greeter.ts": GREETER, "legacy.py": "def ping():\n    return True\n", "b.py": "" },
    async (dir) => {
      const { log, lines } = recordingLogger();
      await using loader = await loadModules({ opts: { module_dirs: [dir] }, log });
      assert.ok(loader.has("greeter.hello"));
      assert.equal(loader.has("legacy.ping"), false);
      const warnings = lines.filter((l) => l.includes("Python modules"));
      assert.equal(warnings.length, 1, lines.join("\n"));
      assert.match(
        warnings[0],
        /module_dirs: .* has Python modules \(b\.py, legacy\.py\); saltbus loads only TypeScript and JavaScript modules \(\.ts, \.js, \.mts, \.mjs\)/,
      );
    },
  );
});
