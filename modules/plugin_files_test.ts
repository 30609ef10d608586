import assert from "node:assert/strict";
import { findPluginFile, importPlugin, listPluginFiles, pluginName } from "./plugin_files.ts";

Deno.test("plug-in files: module endings only, in name order, found by name across directories", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    for (
      const f of ["zeta.ts", "alpha.js", "_private.ts", ".hidden.ts", "types.d.ts", "notes.md"]
    ) {
      await Deno.writeTextFile(`${a}/${f}`, "export const x = 1;\n");
    }
    await Deno.writeTextFile(`${b}/rest.ts`, "export function ping() { return true; }\n");
    assert.deepEqual(await listPluginFiles(a), [`${a}/alpha.js`, `${a}/zeta.ts`]);
    assert.equal(pluginName("zeta.ts"), "zeta");
    assert.equal(pluginName("types.d.ts"), undefined);
    assert.equal(await findPluginFile([a, b], "rest"), `${b}/rest.ts`);
    assert.equal(await findPluginFile([a, b], "nope"), undefined);
    const exports = await importPlugin(`${b}/rest.ts`);
    assert.equal((exports.ping as () => boolean)(), true);
    await assert.rejects(listPluginFiles(`${a}/missing`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
