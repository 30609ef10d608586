/**
 * The scenario of salt-sproxy's event document, end to end with real
 * processes: a reactor on `salt/job/*\/ret/*` fires on `'*' test.ping` to a
 * real minion, a reactor on `proxy/runner/*\/new` fires on `proxy … --events`,
 * an `http_logstash` engine delivers both kinds of event to an HTTP server,
 * and `event_return: [sqlite, pgjsonb]` stores them all, where a plain `psql`
 * query on `salt_events` finds them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeSite, startDaemon } from "./daemons.ts";
import { runCli } from "./harness.ts";
import { startPostgres } from "./postgres.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

const RET_SLS = `announce_ret:
  runner.event.send:
    - args:
      - tag: myco/reacted/ret
      - data:
          jid: "{{ data['jid'] }}"
          id: {{ data['id'] }}
`;

const PROXY_SLS = `announce_proxy:
  runner.event.send:
    - args:
      - tag: myco/reacted/proxy
      - data:
          jid: "{{ tag.split('/')[2] }}"
          fun: {{ data.get('fun', 'unknown') }}
`;

/** Polls `check` until it returns a value, or fails after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | null>, ms = 20_000) {
  const deadline = Date.now() + ms;
  let last: T | null = null;
  while (Date.now() < deadline) {
    last = await check();
    if (last !== null) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("seed scenario: reactors, http_logstash and event_return [sqlite, pgjsonb] see job and proxy events", async () => {
  await using pg = await startPostgres();
  const db = await pg.createDatabase();
  await using site = await makeSite();
  const w = site.workDir;

  const posted: AnyRecord[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    for (const item of Array.isArray(body) ? body : [body]) posted.push(item);
    return new Response("ok");
  });
  try {
    await Deno.writeTextFile(join(w, "ret.sls"), RET_SLS);
    await Deno.writeTextFile(join(w, "proxy.sls"), PROXY_SLS);
    await Deno.writeTextFile(
      join(w, "roster.yml"),
      "dev01: {proxytype: dummy}\ndev02: {proxytype: dummy}\n",
    );
    const cachedir = join(w, "cache");
    const config = join(w, "master.yaml");
    await Deno.writeTextFile(
      config,
      `cachedir: ${cachedir}
reactor:
  - 'salt/job/*/ret/*': [${w}/ret.sls]
  - 'proxy/runner/*/new': [${w}/proxy.sls]
engines:
  - http_logstash:
      url: http://127.0.0.1:${http.addr.port}/events
      tags: ['salt/job/*/ret/*', 'proxy/runner/*']
event_return: [sqlite, pgjsonb]
returner.pgjsonb.host: 127.0.0.1
returner.pgjsonb.port: ${pg.port}
returner.pgjsonb.user: ${pg.user}
returner.pgjsonb.pass: ''
returner.pgjsonb.db: ${db}
`,
    );
    const master = await startDaemon(
      ["master", "--sock-dir", site.masterDir, "--config", config],
      "master bus ready",
    );
    try {
      const minion = await site.minion("web1");
      await minion.stderr.waitFor("connected to the master");
      const listener = await site.masterBus();

      const job = await runCli(["*", "test.ping", "--sock-dir", site.masterDir, "--out", "json"]);
      assert.equal(job.code, 0, job.stderr);
      assert.deepEqual(JSON.parse(job.stdout), { web1: true });
      const proxy = await runCli([
        "proxy",
        "*",
        "test.ping",
        "--events",
        "--roster",
        join(w, "roster.yml"),
        "--sock-dir",
        site.masterDir,
      ]);
      assert.equal(proxy.code, 0, proxy.stderr);

      // Both reactors fire.
      const reacted = new Map<string, AnyRecord>();
      await eventually("both reactions", async () => {
        const e = await listener.getEvent<AnyRecord>({ full: true, wait: 1 });
        if (e?.tag.startsWith("myco/reacted/")) reacted.set(e.tag, e.data);
        return reacted.size === 2 ? true : null;
      });
      assert.equal(reacted.get("myco/reacted/ret")?.id, "web1");
      const proxyJid = String(reacted.get("myco/reacted/proxy")?.jid);
      assert.match(proxyJid, /^\d{20}$/);

      // http_logstash delivers both kinds (the data only, as Salt's engine does).
      await eventually("http_logstash posts", () =>
        Promise.resolve(
          posted.some((d) => d.id === "web1" && d.fun === "test.ping" && "return" in d) &&
            posted.some((d) => d.jid === proxyJid)
            ? true
            : null,
        ));

      // psql finds them in salt_events.
      const rows = await eventually("salt_events rows in PostgreSQL", async () => {
        const out = await pg.psql(
          db,
          "select tag from salt_events where tag like 'salt/job/%/ret/web1' " +
            `or tag like 'proxy/runner/${proxyJid}/%' or tag like 'myco/reacted/%' order by id`,
        );
        const tags = out.split("\n").map((l) => l.trim()).filter(Boolean);
        return tags.some((t) => t.startsWith(`proxy/runner/${proxyJid}/new`)) &&
            tags.some((t) => t.includes("/ret/web1")) && tags.length >= 4
          ? tags
          : null;
      });
      assert.ok(rows.includes("myco/reacted/ret") && rows.includes("myco/reacted/proxy"));

      // And the embedded sqlite store has them too (after a clean stop, every flush is in).
      assert.equal(await master.stop(), 0);
      const sqlite = new DatabaseSync(join(cachedir, "job_cache.sqlite"), { readOnly: true });
      try {
        const tags = (sqlite.prepare("select tag from salt_events").all() as { tag: string }[])
          .map((r) => r.tag);
        for (const tag of rows) assert.ok(tags.includes(tag), `sqlite lacks ${tag}`);
      } finally {
        sqlite.close();
      }
    } finally {
      await master.stop();
    }
  } finally {
    await http.shutdown();
  }
});
