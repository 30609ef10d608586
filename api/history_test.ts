import assert from "node:assert/strict";
import { History } from "./history.ts";

const entry = (id: number, bytes = 10) => ({ id, tag: `t/${id}`, sse: new Uint8Array(bytes) });
const ids = (h: History, since: number) => h.since(since).entries.map((e) => e.id);

Deno.test("History keeps the last N events and reports how many a resume missed", () => {
  const h = new History(3, 1 << 20);
  for (let id = 1; id <= 5; id++) h.push(entry(id));
  assert.equal(h.length, 3);
  assert.equal(h.lastId, 5);
  assert.deepEqual(ids(h, 4), [5]);
  assert.deepEqual(h.since(2), { entries: h.since(2).entries, missed: 0 });
  assert.deepEqual(ids(h, 2), [3, 4, 5]);
  assert.equal(h.since(0).missed, 2);
  assert.deepEqual(ids(h, 0), [3, 4, 5]);
  assert.deepEqual(h.since(5), { entries: [], missed: 0 });
});

Deno.test("History is bounded by bytes too, and an id it never gave is unknown (missed: null)", () => {
  const h = new History(100, 25);
  for (let id = 1; id <= 4; id++) h.push(entry(id));
  assert.equal(h.length, 2);
  assert.equal(h.bytes, 20);
  assert.deepEqual(h.since(9).missed, null);
  assert.deepEqual(ids(h, 9), [3, 4]);
  const none = new History(0, 0);
  none.push(entry(1));
  assert.equal(none.lastId, 1);
  assert.deepEqual(none.since(0), { entries: [], missed: 1 });
});
