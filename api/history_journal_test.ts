import assert from "node:assert/strict";
import { join } from "node:path";
import { HistoryJournal } from "./history_journal.ts";

const sse = (n: number) => new TextEncoder().encode(`tag: n/${n}\ndata: {}\nid: ${n}\n\n`);

Deno.test("HistoryJournal keeps the newest events across reopenings, trims the oldest, and is owned by one process", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "private", "h.sqlite");
    const journal = await HistoryJournal.open(path, 10);
    for (let id = 1; id <= 30; id++) journal.append([{ id, tag: `n/${id}`, sse: sse(id) }]);
    assert.equal(journal.lastId, 30);
    assert.ok(journal.oldestId >= 20 && journal.oldestId <= 21, String(journal.oldestId));
    await assert.rejects(() => HistoryJournal.open(path, 10), /another API/);
    journal.close();
    const again = await HistoryJournal.open(path, 10);
    assert.equal(again.lastId, 30);
    const all = again.read(0, 1 << 20);
    assert.deepEqual(all.entries.map((e) => e.id), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    assert.equal(all.missed, 20);
    const tail = again.read(27, 1 << 20);
    assert.deepEqual(tail, { entries: tail.entries, missed: 0 });
    assert.deepEqual(tail.entries.map((e) => e.tag), ["n/28", "n/29", "n/30"]);
    const small = again.read(0, sse(30).length * 2);
    assert.deepEqual(small.entries.map((e) => e.id), [29, 30], "the newest that fit the bytes");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
