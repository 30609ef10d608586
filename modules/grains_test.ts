import assert from "node:assert/strict";
import { loadModules } from "./loader.ts";
import { traverse } from "../bus/traverse.ts";

Deno.test("grains.items returns core grains with static grains from the config", async () => {
  await using loader = await loadModules({
    opts: { id: "g1", grains: { role: "web", num_cpus: 99, roles: ["a", "b"] } },
    moduleDirs: [],
  });
  const items = await loader.call("grains.items") as Record<string, unknown>;
  assert.equal(items.id, "g1");
  assert.equal(items.role, "web");
  assert.equal(items.num_cpus, 99, "static grains override core grains");
  assert.equal(items.kernelrelease, Deno.osRelease());
  assert.ok(Array.isArray(items.ipv4));
  items.role = "changed";
  assert.equal(loader.grains.role, "web", "items() returns a copy");
});

Deno.test("grains.get looks up nested keys with ':' and returns the default", async () => {
  await using loader = await loadModules({
    opts: { id: "g2", grains: { pkg: { apache: "httpd" }, roles: ["web", { db: "pg" }] } },
    moduleDirs: [],
  });
  assert.equal(await loader.call("grains.get", ["id"]), "g2");
  assert.equal(await loader.call("grains.get", ["pkg:apache"]), "httpd");
  assert.equal(await loader.call("grains.get", ["roles:0"]), "web");
  assert.equal(await loader.call("grains.get", ["roles:db"]), "pg");
  assert.equal(await loader.call("grains.get", ["nope"]), "");
  assert.equal(await loader.call("grains.get", ["nope"], { default: "dflt" }), "dflt");
  assert.equal(await loader.call("grains.get", ["nope", "positional"]), "positional");
  assert.equal(await loader.call("grains.get", ["pkg,apache"], { delimiter: "," }), "httpd");
  assert.equal(
    await loader.call("grains.get", ["ip4_interfaces:lo:0"]),
    Deno.networkInterfaces().find((i) => i.name === "lo" && i.family === "IPv4")?.address ?? "",
  );
});

Deno.test("grains.item returns the named grains as a mapping", async () => {
  await using loader = await loadModules({
    opts: { id: "g3", grains: { role: "web" } },
    moduleDirs: [],
  });
  assert.deepEqual(await loader.call("grains.item", ["id", "role", "missing"]), {
    id: "g3",
    role: "web",
    missing: "",
  });
  assert.deepEqual(await loader.call("grains.item", ["missing"], { default: null }), {
    missing: null,
  });
  assert.deepEqual(await loader.call("grains.item"), {});
});

Deno.test("traverse() follows Salt's traverse_dict_and_list", () => {
  const data = { a: { b: [10, { c: "deep" }] }, list: [{ k: 1 }, { k: 2 }] };
  assert.equal(traverse(data, "a:b:0"), 10);
  assert.equal(traverse(data, "a:b:-1:c"), "deep");
  assert.equal(traverse(data, "a:b:c"), "deep");
  assert.equal(traverse(data, "list:k"), 1);
  assert.equal(traverse(data, "a:b:5", "d"), "d");
  assert.equal(traverse(data, "a:x", "d"), "d");
  assert.equal(traverse(data, "a:b:0:z", "d"), "d");
  assert.equal(traverse(data, "a/b/0", "d", "/"), 10);
});
