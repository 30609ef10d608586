import assert from "node:assert/strict";
import { JobKilledError, RunningJobs } from "./running_jobs.ts";

Deno.test("RunningJobs lists a job while it runs, leaves out the asker, and kill rejects it at once", async () => {
  const jobs = new RunningJobs();
  let finish!: (v: string) => void;
  const slow = jobs.track(
    { jid: "1", fun: "test.sleep", arg: [9] },
    () => new Promise<string>((r) => (finish = r)),
  );
  const quick = await jobs.track(
    { jid: "2", fun: "saltutil.running" },
    () => Promise.resolve(jobs.list("2")),
  );
  assert.deepEqual(quick, [{ jid: "1", fun: "test.sleep", arg: [9], pid: Deno.pid }]);
  assert.equal(jobs.kill("1", 9), true);
  await assert.rejects(slow, JobKilledError);
  assert.deepEqual(jobs.list(), []);
  assert.equal(jobs.kill("1", 9), false);
  finish("late");
  assert.equal(await jobs.track({ jid: "3" }, () => Promise.resolve(7)), 7);
});
