import assert from "node:assert/strict";
import { parsePythonYaml } from "./python_yaml.ts";

Deno.test("parsePythonYaml resolves scalars as PyYAML does", () => {
  assert.deepEqual(
    parsePythonYaml("{n: 7, y: 1, ok: yes, x: n, t: True, nn: NO, d: 2024-01-01, o: 09, f: 1e5}"),
    { n: 7, y: 1, ok: true, x: "n", t: true, nn: false, d: "2024-01-01", o: "09", f: "1e5" },
  );
  assert.deepEqual(parsePythonYaml("a: 1.5\nb: 1.0e+3\nc: ~\n"), { a: 1.5, b: 1000, c: null });
  assert.throws(() => parsePythonYaml("a: [unclosed\n"));
});
