import assert from "node:assert/strict";
import { VERSION } from "../bus/version.ts";
import { loadModules } from "./loader.ts";

Deno.test("test.ping returns true; test.echo returns its text", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.equal(await loader.call("test.ping"), true);
  assert.equal(await loader.call("test.echo", ["foo bar baz"]), "foo bar baz");
  assert.deepEqual(await loader.call("test.echo", [{ a: [1] }]), { a: [1] });
});

Deno.test("test.arg returns args and kwargs, without __ keys, as Salt's test.arg", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.deepEqual(
    await loader.call("test.arg", [1, "two", 3.1], {
      txt: "hello",
      wow: { a: 1 },
      __pub_fun: "test.arg",
      __pub_jid: "20240101000000000000",
    }),
    { args: [1, "two", 3.1], kwargs: { txt: "hello", wow: { a: 1 } } },
  );
  assert.deepEqual(await loader.call("test.arg"), { args: [], kwargs: {} });
});

Deno.test("test.version returns saltbus's VERSION, equal to deno.json's version", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.equal(await loader.call("test.version"), VERSION);
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { version: string };
  assert.equal(VERSION, denoJson.version);
});

Deno.test("test.sleep accepts a number or a numeric string and returns true", async () => {
  await using loader = await loadModules({ opts: {}, moduleDirs: [] });
  assert.equal(await loader.call("test.sleep", [0]), true);
  assert.equal(await loader.call("test.sleep", ["0.001"]), true);
  assert.equal(await loader.call("test.sleep", [], { length: 0 }), true);
  await assert.rejects(loader.call("test.sleep", ["soon"]), /length must be a number of seconds/);
  await assert.rejects(loader.call("test.sleep", [-1]), /length must be a number of seconds/);
  await assert.rejects(loader.call("test.sleep"), {
    name: "ArgumentError",
    message: "test.sleep() missing 1 required positional argument: 'length'",
  });
});
