import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../bus/errors.ts";
import { createLogger } from "../bus/log.ts";
import { Caller } from "./caller.ts";
import { ArgumentError, CommandNotFoundError, LoaderClosedError } from "./errors.ts";
import { kwargs } from "./kwargs.ts";

const quiet = createLogger("quiet");

/** A temp dir with a minion config and a module dir; removed afterwards. */
async function withMinion(fn: (config: string, dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "saltbus_caller_" });
  try {
    const modules = join(root, "modules");
    await Deno.mkdir(modules);
    await Deno.writeTextFile(
      join(modules, "my_custom_module.ts"),
      `
/** Cross-calls grains and test through this.salt. */
export async function do_something(this: any, what = "something") {
  const id = await this.salt["grains.get"]("id");
  const role = await this.salt["grains.get"]("role");
  const echoed = await this.salt["test.echo"](\`The \${what} is finished!\`);
  return { id, role, echoed, pillar: this.pillar.app, cli: this.opts.__cli ?? null };
}

/** Returns its keyword arguments untouched. */
export function raw(kwargs: Record<string, unknown> = {}) {
  return kwargs;
}

/** Returns its positional arguments. */
export function positional(...args: unknown[]) {
  return args;
}

let loads = 0;
export function load_count() {
  return ++loads;
}
`,
    );
    const config = join(root, "minion.yaml");
    await Deno.writeTextFile(
      config,
      [
        "id: caller-minion",
        `sock_dir: ${join(root, "sock")}`,
        "module_dirs:",
        `  - ${modules}`,
        "grains:",
        "  role: worker",
        "pillar:",
        "  app: shop",
        "log_level: quiet",
        "",
      ].join("\n"),
    );
    await fn(config, root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("Caller.cmd() runs a custom module from the config's module_dirs, which cross-calls", async () => {
  await withMinion(async (config) => {
    await using caller = new Caller({ config });
    assert.deepEqual(await caller.cmd("my_custom_module.do_something"), {
      id: "caller-minion",
      role: "worker",
      echoed: "The something is finished!",
      pillar: "shop",
      cli: null,
    });
    assert.deepEqual(await caller.cmd("my_custom_module.do_something", "job"), {
      id: "caller-minion",
      role: "worker",
      echoed: "The job is finished!",
      pillar: "shop",
      cli: null,
    });
    assert.equal(await caller.cmd("test.ping"), true);
  });
});

Deno.test("Caller.cmd(): a trailing plain object is positional; kwargs() and __kwarg__ are keywords; no __pub_ keys", async () => {
  await withMinion(async (config) => {
    await using caller = new Caller({ config });
    assert.deepEqual(await caller.cmd("my_custom_module.positional", "my/tag", { success: true }), [
      "my/tag",
      { success: true },
    ]);
    assert.deepEqual(await caller.cmd("my_custom_module.raw"), {});
    assert.deepEqual(await caller.cmd("my_custom_module.raw", kwargs({ a: 1 })), { a: 1 });
    assert.deepEqual(await caller.cmd("my_custom_module.raw", { b: 2, __kwarg__: true }), { b: 2 });
    assert.deepEqual(await caller.cmd("test.arg", 1, kwargs({ c: 3 })), {
      args: [1],
      kwargs: { c: 3 },
    });
  });
});

Deno.test("Caller: opts win over the config file; moduleDirs wins over module_dirs", async () => {
  await withMinion(async (config) => {
    await using caller = new Caller({
      config,
      opts: { id: "override", grains: { role: "other" } },
      moduleDirs: [],
      log: quiet,
    });
    assert.equal(await caller.cmd("grains.get", "id"), "override");
    assert.equal(await caller.cmd("grains.get", "role"), "other");
    await assert.rejects(caller.cmd("my_custom_module.raw"), CommandNotFoundError);
    assert.equal((await caller.loader()).opts.id, "override");
  });
});

Deno.test("Caller loads once: concurrent first calls share the load", async () => {
  await withMinion(async (config) => {
    await using caller = new Caller({ config });
    const [a, b, c] = await Promise.all([
      caller.loader(),
      caller.loader(),
      caller.cmd("test.ping"),
    ]);
    assert.equal(a, b);
    assert.equal(c, true);
    assert.equal(a, await caller.loader());
    assert.ok((await caller.functions()).includes("my_custom_module.raw"));
  });
});

Deno.test("Caller.cmd() reports unknown functions and bad arguments like Salt", async () => {
  await using caller = new Caller({ opts: { log_level: "quiet" } });
  await assert.rejects(caller.cmd("foo.bar"), {
    name: "CommandNotFoundError",
    message: "'foo.bar' is not available.",
  });
  await assert.rejects(caller.cmd("test.echo"), ArgumentError);
  await assert.rejects(caller.cmd("test.ping", kwargs({ x: 1 })), {
    message: "test.ping() got an unexpected keyword argument 'x'",
  });
});

Deno.test("Caller: a missing config file is a ConfigError on the first call, and is retried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus_caller_" });
  try {
    const config = join(dir, "minion.yaml");
    await using caller = new Caller({ config });
    await assert.rejects(caller.cmd("test.ping"), ConfigError);
    await Deno.writeTextFile(config, "id: late\nlog_level: quiet\n");
    assert.equal(await caller.cmd("grains.get", "id"), "late");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Caller.close() is idempotent and later calls throw LoaderClosedError", async () => {
  const caller = new Caller({ opts: { log_level: "quiet" } });
  assert.equal(await caller.cmd("test.ping"), true);
  await caller.close();
  await caller.close();
  await assert.rejects(caller.cmd("test.ping"), LoaderClosedError);
  const never = new Caller();
  await never.close(); // never loaded: nothing to close
  await assert.rejects(never.functions(), LoaderClosedError);
});
