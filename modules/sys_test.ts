import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModules } from "./loader.ts";
import { selectFunctions } from "./select_functions.ts";

Deno.test("sys.list_functions lists all, by module, or by glob", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  const all = await loader.call("sys.list_functions") as string[];
  assert.deepEqual(all, loader.functions());
  assert.deepEqual(await loader.call("sys.list_functions", ["test"]), [
    "test.arg",
    "test.echo",
    "test.ping",
    "test.sleep",
    "test.version",
  ]);
  assert.deepEqual(await loader.call("sys.list_functions", ["sys", "grains.get"]), [
    "grains.get",
    "sys.doc",
    "sys.list_functions",
    "sys.list_modules",
  ]);
  assert.deepEqual(await loader.call("sys.list_functions", ["test.p*"]), ["test.ping"]);
  assert.deepEqual(await loader.call("sys.list_functions", ["te"]), []);
  // Salt takes **kwargs here so that stray keywords are ignored.
  assert.ok((await loader.call("sys.list_functions", [], { junk: 1 }) as string[]).length > 0);
});

Deno.test("sys.list_modules lists module names, sorted; with names or globs only those", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.deepEqual(await loader.call("sys.list_modules"), loader.modules());
  assert.ok((await loader.call("sys.list_modules") as string[]).includes("grains"));
  assert.deepEqual(await loader.call("sys.list_modules", ["gr*", "test", "nope"]), [
    "grains",
    "test",
  ]);
});

Deno.test("sys.doc reads JSDoc from module sources, __doc__ properties and __doc__ maps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus_sys_" });
  try {
    await Deno.writeTextFile(
      join(dir, "documented.ts"),
      `/**
 * The module.
 * @module
 */

/**
 * Does the first thing.
 *
 * @param x the input
 * @example
 * saltbus call documented.first 1
 */
export function first(x = 1) {
  return x;
}

/** Async one. */
export async function second() {
  return await Promise.resolve(2);
}

/** Arrow one. */
export const third = () => 3;

export function fourth() {
  return 4;
}
fourth.__doc__ = "From the property.";

/** Shadowed by the __doc__ map. */
export function fifth() {
  return 5;
}

export function undocumented() {}

export const __doc__ = { fifth: "From the map." };
`,
    );
    await using loader = await loadModules({ opts: {}, moduleDirs: [dir] });
    assert.deepEqual(await loader.call("sys.doc", ["documented"]), {
      "documented.fifth": "From the map.",
      "documented.first":
        "Does the first thing.\n\n@param x the input\n@example\nsaltbus call documented.first 1",
      "documented.fourth": "From the property.",
      "documented.second": "Async one.",
      "documented.third": "Arrow one.",
      "documented.undocumented": "",
    });
    assert.deepEqual(await loader.call("sys.doc", ["documented.second", "documented.t*"]), {
      "documented.second": "Async one.",
      "documented.third": "Arrow one.",
    });
    assert.deepEqual(loader.doc("documented.third"), { "documented.third": "Arrow one." });
    const builtin = await loader.call("sys.doc", ["test.ping"]) as Record<string, string>;
    assert.match(builtin["test.ping"], /^Returns `true`/);
    const all = await loader.call("sys.doc") as Record<string, string>;
    assert.deepEqual(Object.keys(all), loader.functions());
    assert.match(all["grains.get"], /default/);
    assert.match(all["sys.doc"], /documentation/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sys.doc gives an empty text when the source cannot be read", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  await loader.addModule({ name: "remote", url: "https://example.com/x.ts", exports: { f() {} } });
  await loader.addModule({ name: "gone", url: "file:///nonexistent/x.ts", exports: { g() {} } });
  assert.deepEqual(loader.doc("remote"), { "remote.f": "" });
  assert.deepEqual(loader.doc("gone"), { "gone.g": "" });
});

Deno.test("selectFunctions() follows sys.doc's selection rules", () => {
  const all = ["sys.doc", "sysctl.get", "test.ping", "test.echo"];
  assert.deepEqual(selectFunctions(all, []), ["sys.doc", "sysctl.get", "test.echo", "test.ping"]);
  assert.deepEqual(selectFunctions(all, ["sys"]), ["sys.doc"]);
  assert.deepEqual(selectFunctions(all, ["sys."]), ["sys.doc"]);
  assert.deepEqual(selectFunctions(all, ["test.ping"]), ["test.ping"]);
  assert.deepEqual(selectFunctions(all, ["*.get"]), ["sysctl.get"]);
  assert.deepEqual(selectFunctions(all, ["nope"]), []);
});
