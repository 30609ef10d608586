/**
 * `event_return` across a SIGTERM of a real master process: every event the
 * bus accepted before the signal is in the store after the master exits
 * (the component drains the bus behind a marker before it closes).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { getEvent } from "../mod.ts";
import { SQLITE_FILE } from "../returners/sqlite.ts";
import { makeSite, startDaemon } from "./daemons.ts";

Deno.test("event_return: nothing the bus accepted is lost when the master gets SIGTERM mid-stream", async () => {
  await using site = await makeSite();
  const cachedir = join(site.workDir, "cache");
  const config = join(site.workDir, "master.yaml");
  await Deno.writeTextFile(
    config,
    `event_return: sqlite\ncachedir: ${cachedir}\nevent_return_whitelist: ['myco/*']\n`,
  );
  const master = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  let accepted = 0;
  try {
    await using firer = getEvent("master", { sockDir: site.masterDir, listen: false });
    assert.ok(await firer.connected(5));
    for (let i = 0; i < 10_000; i += 500) {
      const batch = [];
      for (let j = i; j < i + 500; j++) batch.push(firer.fireEvent({ n: j }, "myco/stream"));
      for (const ok of await Promise.all(batch)) if (ok) accepted++;
    }
    master.child.kill("SIGTERM");
    assert.equal((await master.child.status).code, 0);
  } finally {
    await master.stop();
  }
  assert.equal(accepted, 10_000);
  const db = new DatabaseSync(join(cachedir, SQLITE_FILE), { readOnly: true });
  try {
    const rows = db.prepare("SELECT data FROM salt_events WHERE tag = 'myco/stream' ORDER BY id")
      .all() as { data: string }[];
    assert.equal(rows.length, accepted);
    assert.deepEqual(rows.map((r) => JSON.parse(r.data).n), [...Array(accepted).keys()]);
  } finally {
    db.close();
  }
  assert.doesNotMatch(master.stderr.text, /dropped/);
});
