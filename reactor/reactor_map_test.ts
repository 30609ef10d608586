import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { mapToList, matchReactors, parseReactorMap, readReactorMapFile } from "./reactor_map.ts";

Deno.test("matchReactors() uses fnmatch, where * crosses /, and keeps every match in order", () => {
  const map = parseReactorMap([
    { "salt/minion/*/start": "/a.sls" },
    { "salt/*": ["/b.sls", "/a.sls"] },
    { "other/*": "/c.sls" },
  ]);
  assert.deepEqual(matchReactors(map, "salt/minion/a/b/start").map((m) => m.file), [
    "/a.sls",
    "/b.sls",
    "/a.sls",
  ]);
  assert.deepEqual(matchReactors(map, "Salt/minion/x/start"), []);
});

Deno.test("parseReactorMap() skips items that are not single-key maps, as Salt", () => {
  const map = parseReactorMap(["x", { a: "/a", b: "/b" }, { c: 3 }, { d: "/d" }]);
  assert.deepEqual(mapToList(map), [{ d: ["/d"] }]);
});

Deno.test("parseReactorMap() reads the react_to_reactor opt-in", () => {
  const [entry] = parseReactorMap([{
    "salt/run/*/ret": { files: ["/r.sls"], react_to_reactor: true },
  }]);
  assert.deepEqual(entry, { tag: "salt/run/*/ret", files: ["/r.sls"], reactToReactor: true });
});

Deno.test("readReactorMapFile() gives Salt's message for a YAML error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/map.yaml`, "- 'a/*': [unclosed\n");
    const { entries, error } = await readReactorMapFile(`${dir}/map.yaml`);
    assert.deepEqual(entries, []);
    assert.match(error ?? "", /^Failed to parse YAML in reactor map: "/);
    const missing = await readReactorMapFile(`${dir}/none.yaml`);
    assert.match(missing.error ?? "", /^Failed to read reactor map: "/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveConfig() refuses a reactor option that is neither a list nor a path", () => {
  assert.throws(
    () => resolveConfig("master", { sock_dir: "/tmp/x", reactor: { "a/*": "/a.sls" } }),
    /reactor in options: expected a list of \{tag glob: \[files\]\}/,
  );
  assert.doesNotThrow(() =>
    resolveConfig("master", { sock_dir: "/tmp/x", reactor: "/etc/r.yaml" })
  );
});
