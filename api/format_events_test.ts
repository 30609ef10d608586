import assert from "node:assert/strict";
import { SaltInfo } from "./format_events.ts";

Deno.test("SaltInfo follows jobs from new to complete and minions from key and presence events", () => {
  const info = new SaltInfo();
  const [jobs] = info.process("salt/job/1/new", {
    jid: "1",
    minions: ["a", "b"],
    fun: "test.ping",
    tgt: "*",
    tgt_type: "glob",
    _stamp: "S",
  });
  assert.deepEqual(jobs, {
    jobs: {
      "1": {
        jid: "1",
        start_time: "S",
        minions: { a: { success: false }, b: { success: false } },
        fun: "test.ping",
        tgt: "*",
        tgt_type: "glob",
        state: "running",
      },
    },
  });
  info.process("salt/job/1/ret/a", { return: true, retcode: 0, success: true, fun: "test.ping" });
  assert.equal(info.jobs["1"].state, "running");
  info.process("salt/job/1/ret/b", { return: true, retcode: 0, success: true, fun: "test.ping" });
  assert.equal(info.jobs["1"].state, "complete");
  assert.deepEqual(info.process("salt/key", { id: "web1", act: "accept" }), [
    { minions: { web1: { id: "web1" } } },
  ]);
  const grains = info.process("salt/job/2/ret/web1", {
    fun: "grains.items",
    return: { os: "Debian" },
    retcode: 0,
    success: true,
  });
  assert.deepEqual(grains[1], { minions: { web1: { grains: { os: "Debian" }, id: "web1" } } });
  assert.deepEqual(info.process("salt/presence/present", { present: ["db1"] }), [
    { minions: { db1: { id: "db1" } } },
  ]);
  assert.deepEqual(info.process("salt/presence/present", { present: ["db1"] }), []);
  assert.deepEqual(info.process("salt/key", { id: "db1", act: "delete" }), [{ minions: {} }]);
  assert.deepEqual(info.process("other", {}), []);
});
