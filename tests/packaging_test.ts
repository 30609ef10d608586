/**
 * What leaves the checkout: `deno publish` ships no tests, benches or
 * results, and `deno compile` (the `compile` task's flags) embeds no
 * test-only package. `DENORT_BIN` points compile at this Deno, so it lists
 * the embedded files without downloading a runtime.
 */
import assert from "node:assert/strict";
import { ROOT } from "./harness.ts";

async function deno(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  return text;
}

Deno.test("deno publish --dry-run ships the library, and no tests, benches, tools or results", async () => {
  const text = await deno(["publish", "--dry-run", "--allow-dirty"]);
  const files = text.split("\n").filter((l) => l.includes("file:///")).map((l) => l.trim());
  assert.ok(files.some((f) => f.includes("/mod.ts")), text);
  assert.ok(files.some((f) => f.includes("/workers/broker_worker.ts")), text);
  const leaked = files.filter((f) =>
    /_test\.ts|\/tests\/|\/bench\/|\/tools\/|results\.json/.test(f)
  );
  assert.deepEqual(leaked, []);
});

Deno.test("the compile task embeds the Workers and only the npm packages the CLI imports", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const flags = (tasks.compile as string).split(/\s+/).slice(2); // after "deno compile"
  const out = await Deno.makeTempDir();
  try {
    const args = flags.map((flag, i) => flags[i - 1] === "--output" ? `${out}/saltbus` : flag);
    const text = await deno(["compile", ...args], { DENORT_BIN: Deno.execPath() });
    assert.match(text, /workers\//); // the Worker entry points (the tree folds the folder)
    assert.match(text, /@msgpack\/msgpack/);
    assert.match(text, /yaml\/2\.9\.1/);
    assert.doesNotMatch(text, /playwright-core/);
    assert.doesNotMatch(text, /_test\.ts|tests\/|bench\//);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
