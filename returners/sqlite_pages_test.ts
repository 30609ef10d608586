import assert from "node:assert/strict";
import { SqliteReturner } from "./sqlite.ts";
import { iterateJobs } from "./sqlite_pages.ts";

Deno.test("iterateJobs: every job in jid order, page by page, with limit and after; a missing file is empty", async () => {
  const cachedir = await Deno.makeTempDir();
  try {
    assert.deepEqual([...iterateJobs({ node: "master", cachedir })], []);
    const store = await SqliteReturner.open({ cachedir });
    const jids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const jid = `2024050112345678${String(i).padStart(4, "0")}`;
      jids.push(jid);
      void store.save_load(jid, { fun: "test.ping", tgt: `web${i}`, tgt_type: "glob", arg: [] }, [
        "web1",
      ]);
    }
    await store.save_load("20240501000000000000", { fun: "test.echo", arg: ["x"] });
    const all = [...iterateJobs({ node: "master", cachedir }, { pageSize: 4 })];
    assert.deepEqual(all.map(([jid]) => jid), ["20240501000000000000", ...jids]);
    assert.deepEqual(all[1][1], {
      Function: "test.ping",
      Arguments: [],
      Target: "web0",
      "Target-type": "glob",
      User: "root",
      StartTime: "2024, May 01 12:34:56.780000",
    });
    const some = [
      ...iterateJobs({ node: "master", cachedir }, { pageSize: 3, after: jids[9], limit: 7 }),
    ];
    assert.deepEqual(some.map(([jid]) => jid), jids.slice(10, 17));
    await store.close();
  } finally {
    await Deno.remove(cachedir, { recursive: true });
  }
});
