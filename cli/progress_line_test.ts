import assert from "node:assert/strict";
import { ProgressLine } from "./progress_line.ts";

Deno.test("ProgressLine writes nothing when disabled (not a terminal)", () => {
  const out: string[] = [];
  const line = new ProgressLine("proxy", 3, { enabled: false, write: (t) => out.push(t) });
  line.update(1, 0);
  line.update(3, 1);
  line.clear();
  assert.deepEqual(out, []);
});

Deno.test("ProgressLine rewrites one line in place and clears it", () => {
  const out: string[] = [];
  const line = new ProgressLine("proxy", 1000, {
    enabled: true,
    delayMs: 0,
    intervalMs: 1e9,
    write: (t) => out.push(t),
  });
  line.update(523, 2);
  line.update(524, 2); // within the interval: skipped
  line.update(1000, 3); // the last one is always drawn
  line.clear();
  assert.deepEqual(out, [
    "\r\x1b[K[proxy] 523/1000 done, 2 failed",
    "\r\x1b[K[proxy] 1000/1000 done, 3 failed",
    "\r\x1b[K",
  ]);
});

Deno.test("ProgressLine stays silent for short runs (before its delay)", () => {
  const out: string[] = [];
  const line = new ProgressLine("proxy", 2, {
    enabled: true,
    delayMs: 1e9,
    write: (t) => out.push(t),
  });
  line.update(2, 0);
  line.clear();
  assert.deepEqual(out, []);
});
