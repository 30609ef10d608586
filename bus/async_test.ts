import assert from "node:assert/strict";
import { Backoff, delay, raceDeadline, TIMED_OUT } from "./async.ts";

Deno.test("delay() resolves after its time, or at once when its signal aborts", async () => {
  const started = Date.now();
  await delay(20);
  assert.ok(Date.now() - started >= 15);
  const abort = new AbortController();
  const waiting = delay(60_000, { signal: abort.signal });
  abort.abort();
  await waiting; // no 60 s timer left behind: the sanitizer would see it
});

Deno.test("raceDeadline() gives the value, TIMED_OUT at the deadline or on abort, and passes rejections", async () => {
  assert.equal(await raceDeadline(Promise.resolve(7), Date.now() + 1000), 7);
  assert.equal(await raceDeadline(new Promise(() => {}), Date.now() + 10), TIMED_OUT);
  assert.equal(
    await raceDeadline(new Promise(() => {}), Infinity, AbortSignal.abort()),
    TIMED_OUT,
  );
  await assert.rejects(raceDeadline(Promise.reject(new Error("no")), Date.now() + 1000), /no/);
});

Deno.test("Backoff doubles its delay up to the maximum and starts over after reset()", async () => {
  const backoff = new Backoff({ initialMs: 1, maxMs: 4, jitter: 0 });
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    seen.push(backoff.nextMs);
    await backoff.wait();
  }
  assert.deepEqual(seen, [1, 2, 4, 4, 4]);
  backoff.reset();
  assert.equal(backoff.nextMs, 1);
});
