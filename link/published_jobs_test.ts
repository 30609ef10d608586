import assert from "node:assert/strict";
import { type JobPublisher, PublishedJobs } from "./published_jobs.ts";

const JID = "20240501123456789012";
const JID2 = "20240501123456789013";
const JID3 = "20240501123456789014";

function publisher(): JobPublisher & { closed: boolean } {
  return { closed: false, send: () => true };
}

Deno.test("PublishedJobs accepts one return per minion the job was sent to, and none from others", () => {
  const jobs = new PublishedJobs();
  jobs.add(JID, ["web1", "web2"]);
  assert.equal(jobs.acceptReturn(JID, "web1"), true);
  assert.equal(jobs.acceptReturn(JID, "web1"), false, "a second return from web1");
  assert.equal(jobs.acceptReturn(JID, "db1"), false, "db1 was not sent the job");
  assert.equal(jobs.acceptReturn(JID2, "web1"), false, "a job never published");
  assert.equal(jobs.isPublished(JID), true);
  assert.equal(jobs.isPublished(JID2), false);
  assert.equal(jobs.isPending(JID, "web2"), true);
  assert.deepEqual(jobs.stats, { jobs: 1, pending: 1, evicted: 0, expired: 0 });
});

Deno.test("PublishedJobs forgets a job after its time to live, and then accepts no return for it", () => {
  let now = 1_000;
  const jobs = new PublishedJobs({ ttlMs: 100, now: () => now });
  jobs.add(JID, ["web1"]);
  now += 99;
  assert.equal(jobs.isPublished(JID), true);
  now += 1;
  assert.equal(jobs.acceptReturn(JID, "web1"), false);
  assert.equal(jobs.isPublished(JID), false);
  assert.deepEqual(jobs.stats, { jobs: 0, pending: 0, evicted: 0, expired: 1 });
});

Deno.test("PublishedJobs holds at most maxJobs jobs and maxPending pending returns, forgetting the oldest", () => {
  const jobs = new PublishedJobs({ maxJobs: 2, maxPending: 3 });
  assert.equal(jobs.add(JID, ["a"]), 0);
  assert.equal(jobs.add(JID2, ["a"]), 0);
  assert.equal(jobs.add(JID3, ["a"]), 1, "the third job pushes out the first");
  assert.equal(jobs.isPublished(JID), false);
  assert.equal(jobs.add(JID, ["a", "b", "c"]), 2, "three pending pairs push out both others");
  assert.deepEqual(jobs.stats, { jobs: 1, pending: 3, evicted: 3, expired: 0 });
  // A single job bigger than the bound is still kept: it is the newest.
  assert.equal(jobs.add(JID2, ["a", "b", "c", "d"]), 1);
  assert.equal(jobs.isPending(JID2, "d"), true);
});

Deno.test("PublishedJobs.lost() names the watched jobs still waiting for a minion whose publisher is connected", () => {
  const jobs = new PublishedJobs();
  const alice = publisher();
  const bob = publisher();
  jobs.add(JID, ["web1", "web2"], alice);
  jobs.add(JID2, ["web1"], bob);
  jobs.add(JID3, ["web1"]); // nobody watches
  assert.deepEqual(jobs.lost("web1").map((l) => [l.jid, l.publisher]), [[JID, alice], [
    JID2,
    bob,
  ]]);
  assert.deepEqual(jobs.lost("db1"), []);
  jobs.acceptReturn(JID, "web1");
  bob.closed = true;
  assert.deepEqual(jobs.lost("web1"), [], "web1 returned for JID; bob's link is gone");
  assert.deepEqual(jobs.lost("web2").map((l) => l.jid), [JID]);
  assert.equal(jobs.isPending(JID2, "web1"), true, "a lost minion may still come back and return");
});
