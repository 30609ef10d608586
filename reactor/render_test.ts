import assert from "node:assert/strict";
import { expandFile, ReactionRenderError, renderReactionFile } from "./render.ts";

async function inTempDir(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("renderReactionFile() renders Jinja with tag and data, then YAML 1.1, and adds __sls__", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/r.sls`;
    await Deno.writeTextFile(
      file,
      "{% for m in data['minions'] %}\nping_{{ m }}:\n  local.test.ping:\n    - tgt: {{ m }}\n    - ret: yes\n{% endfor %}\n",
    );
    const high = await renderReactionFile(file, "myco/t", { minions: ["a", "b"] });
    assert.deepEqual(high, {
      ping_a: { "local.test.ping": [{ tgt: "a" }, { ret: true }], __sls__: file },
      ping_b: { "local.test.ping": [{ tgt: "b" }, { ret: true }], __sls__: file },
    });
  });
});

Deno.test("renderReactionFile() renders an empty result (all ifs false) as no reactions", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/r.sls`,
      "{% if data.get('x') %}\na:\n  local.test.ping: []\n{% endif %}\n",
    );
    assert.deepEqual(await renderReactionFile(`${dir}/r.sls`, "t", {}), {});
  });
});

Deno.test("renderReactionFile() calls a TypeScript module's default export with tag and data", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/r.ts`;
    await Deno.writeTextFile(
      file,
      "export default (tag: string, data: { id: string }) => ({ [`ping_${data.id}`]: { 'local.test.ping': [{ tgt: tag }] } });\n",
    );
    assert.deepEqual(await renderReactionFile(file, "web1", { id: "web1" }), {
      ping_web1: { "local.test.ping": [{ tgt: "web1" }], __sls__: file },
    });
  });
});

Deno.test("renderReactionFile() refuses a renderer saltbus does not have", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/r.sls`, "#!py\ndef run(): return {}\n");
    await assert.rejects(
      renderReactionFile(`${dir}/r.sls`, "t", {}),
      (err: unknown) => err instanceof ReactionRenderError && /renderer 'py'/.test(err.message),
    );
  });
});

Deno.test("renderReactionFile() refuses a result that is not a mapping", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/r.sls`, "- a\n- b\n");
    await assert.rejects(
      renderReactionFile(`${dir}/r.sls`, "t", {}),
      (err: unknown) => err instanceof ReactionRenderError && err.stage === "shape",
    );
  });
});

Deno.test("expandFile() expands wildcards in the last segment like glob.glob, sorted", async () => {
  await inTempDir(async (dir) => {
    for (const name of ["b.sls", "a.sls", "c.txt"]) await Deno.writeTextFile(`${dir}/${name}`, "");
    assert.deepEqual(await expandFile(`${dir}/*.sls`), [`${dir}/a.sls`, `${dir}/b.sls`]);
    assert.deepEqual(await expandFile(`${dir}/none.sls`), []);
  });
});
