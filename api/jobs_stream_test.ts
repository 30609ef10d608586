import assert from "node:assert/strict";
import { SqliteReturner } from "../returners/sqlite.ts";
import { jobsListStream } from "./jobs_stream.ts";

Deno.test("jobsListStream: rest_cherrypy's envelope for an empty cache and across chunks", async () => {
  const cachedir = await Deno.makeTempDir();
  try {
    const empty = await new Response(jobsListStream({ node: "master", cachedir })).text();
    assert.equal(empty, '{"return": [{}]}');
    const store = await SqliteReturner.open({ cachedir });
    for (let i = 0; i < 1201; i++) {
      void store.save_load(`20240501${String(i).padStart(12, "0")}`, {
        fun: "test.ping",
        tgt: "*",
      });
    }
    await store.close();
    const text = await new Response(jobsListStream({ node: "master", cachedir })).text();
    const body = JSON.parse(text);
    assert.equal(Object.keys(body.return[0]).length, 1201);
    assert.ok(text.includes('"20240501000000000000": {"Function": "test.ping", "Arguments": []'));
  } finally {
    await Deno.remove(cachedir, { recursive: true });
  }
});
