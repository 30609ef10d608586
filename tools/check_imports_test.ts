import assert from "node:assert/strict";
import { findCycles, layerProblem } from "./check_imports.ts";

Deno.test("findCycles() finds every cycle, self-imports included, and nothing else", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["d.ts"]],
    ["e.ts", ["a.ts"]],
  ]);
  assert.deepEqual(findCycles(graph), [["a.ts", "b.ts", "c.ts"], ["d.ts"]]);
  assert.deepEqual(findCycles(new Map([["x.ts", ["y.ts"]], ["y.ts", []]])), []);
});

Deno.test("layerProblem() allows imports that point down and names those that point up", () => {
  assert.equal(layerProblem("cli/main.ts", "bus/frame.ts"), undefined);
  assert.equal(layerProblem("bus/frame.ts", "bus/msgpack.ts"), undefined);
  assert.match(layerProblem("bus/frame.ts", "cli/main.ts")!, /bus\/ is below cli\//);
  assert.match(layerProblem("link/x.ts", "jobs/jid.ts")!, /link\/ is below jobs\//);
  assert.match(layerProblem("proxy/x.ts", "mod.ts")!, /exists for users only/);
  assert.equal(layerProblem("tests/harness.ts", "mod.ts"), undefined);
  assert.equal(layerProblem("api/x_test.ts", "tests/harness.ts"), undefined);
  assert.match(layerProblem("stuff/x.ts", "bus/frame.ts")!, /not a layer of the house/);
});
