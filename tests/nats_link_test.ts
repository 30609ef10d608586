/**
 * The master↔minion link over NATS across hosts (network namespaces: the
 * master and a private nats-server in one, each minion in its own), with
 * real processes: keys (pending, accepted, deleted), the server enforcing
 * per-minion identity, jobs and events across hosts, a master restart, and
 * a NATS outage during a stream of events.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { getEvent } from "../mod.ts";
import { startNatsSite } from "./nats_site.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

Deno.test("transport: nats across hosts: keys, identity enforced by the server, jobs, events, master restart, a NATS outage", async (t) => {
  await using site = await startNatsSite({
    minions: ["web1", "web2"],
    masterConfig: "presence_events: true\n",
  });
  const probe = async (host: string, mode: string, self: string, other = "web2") => {
    const seedFile = join(site.minionDir(self), "pki", "minion.nk");
    const r = await site.run(host, [
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("./nats_probe_proc.ts", import.meta.url).pathname,
      site.natsUrl,
      seedFile,
      mode,
      self,
      other,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
  };
  console.log(
    `hosts: ${site.namespaces ? "network namespaces" : "loopback"}; NATS ${site.natsUrl}`,
  );
  let master = await site.master();
  const bus = await site.masterBus();

  const web1 = await site.minion("web1");
  const web2 = await site.minion("web2");

  await t.step(
    "a new minion's key is pending: salt/auth fires, and the key can do nothing",
    async () => {
      const auth = await bus.getEvent({ tag: "salt/auth", wait: 20, full: true });
      assert.ok(auth, "a salt/auth event");
      const data = auth!.data as Record<string, unknown>;
      assert.equal(data.act, "pend");
      assert.match(String(data.pub), /^U[A-Z0-9]{55}$/);
      const list = await site.cli("hub", ["key", "-L", "-c", site.masterConf]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /Unaccepted Keys:\n(web\d\n)*web1\n/);
      // With its own key it cannot even connect (the server does not know it yet).
      const pending = await probe("web1", "connect", "web1");
      assert.equal(pending.connected, false);
      assert.match(pending.error, /Authorization/i);
    },
  );

  await t.step("cli.ts key -a accepts: the minions connect over NATS", async () => {
    const r = await site.cli("hub", ["key", "-a", "web*", "-y", "-c", site.masterConf]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Key for minion web1 accepted\./);
    await web1.stderr.waitFor(/connected to the master at NATS/, 20_000);
    await web2.stderr.waitFor(/connected to the master at NATS/, 20_000);
  });

  await t.step("'*' test.ping across hosts", async () => {
    const r = await site.cli("hub", [
      "*",
      "test.ping",
      "-c",
      site.masterConf,
      "--out",
      "json",
      "--static",
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(JSON.parse(r.stdout), { web1: true, web2: true });
  });

  await t.step("web1 event.fire reaches the bus of the minion on another host", async () => {
    await using minionBus = getEvent("minion", {
      sockDir: site.minionDir("web1"),
      opts: { id: "web1" },
    });
    assert.ok(await minionBus.connected());
    const r = await site.cli("hub", [
      "web1",
      "event.fire",
      '{"where": "web1"}',
      "remote/fire",
      "-c",
      site.masterConf,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const event = await minionBus.getEvent({ tag: "remote/fire", wait: 10, full: true });
    assert.equal((event?.data as Record<string, unknown>)?.where, "web1");
  });

  await t.step("call event.send on a minion host reaches the master bus", async () => {
    const conf = await site.minionConf("web1");
    const r = await site.cli("web1", [
      "call",
      "event.send",
      "remote/send",
      "{success: True}",
      "-c",
      conf,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const event = await bus.getEvent({ tag: "remote/send", wait: 10, full: true });
    const data = event?.data as Record<string, Record<string, unknown>>;
    assert.equal(data?.id as unknown, "web1");
    assert.equal(data?.data?.success, true);
  });

  await t.step("a minion cannot act as another: the NATS server refuses it", async () => {
    const result = await probe("web1", "impersonate", "web1", "web2");
    assert.equal(result.connected, true, "web1's own key is accepted now");
    const errors = result.errors.join("\n");
    assert.match(errors, /Permissions Violation for Publish to "salt\.link\.up\.web2"/i);
    assert.match(errors, /Permissions Violation for Subscription to "salt\.link\.down\.web2"/i);
    assert.match(errors, /Permissions Violation for Publish to "salt\.link\.open\.web2"/i);
    // web2 is unharmed.
    const r = await site.cli("hub", ["web2", "test.ping", "-c", site.masterConf]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  await t.step(
    "a NATS server killed for 3 s during 1,000 events/s: 0 lost, 0 duplicated",
    async () => {
      const count = 7000;
      const seen = new Map<number, number>();
      const counting = (async () => {
        while (seen.size < count) {
          const event = await bus.getEvent({ tag: "outage/", wait: 15, full: true });
          if (event === null) break;
          const n = ((event.data as Record<string, Record<string, unknown>>).data?.n) as number;
          seen.set(n, (seen.get(n) ?? 0) + 1);
        }
      })();
      await using minionBus = getEvent("minion", {
        sockDir: site.minionDir("web1"),
        opts: { id: "web1" },
      });
      assert.ok(await minionBus.connected());
      const firing = (async () => {
        const started = performance.now();
        for (let n = 0; n < count; n++) {
          await minionBus.fireMaster({ n }, `outage/${n % 10}`);
          const due = started + n; // 1 per ms
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
        }
      })();
      await sleep(2000);
      await site.nats.kill();
      await sleep(3000);
      await site.nats.restart();
      await firing;
      await counting;
      const dups = [...seen.values()].filter((c) => c > 1).length;
      assert.equal(seen.size, count, `${count - seen.size} events lost`);
      assert.equal(dups, 0, `${dups} events duplicated`);
    },
  );

  await t.step(
    "a master restart: the minions say hello again, queued returns are delivered, jobs work",
    async () => {
      const async = await site.cli("hub", [
        "web1",
        "test.sleep",
        "2",
        "--async",
        "-c",
        site.masterConf,
      ]);
      assert.equal(async.code, 0, async.stderr + async.stdout);
      const jid = /job ID: (\d{20})/.exec(async.stdout)![1];
      await new Promise((r) => setTimeout(r, 300)); // the job cache has stored the job
      await master.stop();
      master = await site.master();
      let found = "";
      for (let i = 0; i < 50 && !/web1:\n {4}True/.test(found); i++) {
        await new Promise((r) => setTimeout(r, 200));
        found =
          (await site.cli("hub", ["run", "jobs.lookup_jid", jid, "-c", site.masterConf])).stdout;
      }
      assert.match(found, /web1:\n {4}True/, "the return of a job from before the restart");
      await until(
        "web1 to connect again",
        () => (web1.stderr.text.match(/connected to the master at NATS/g) ?? []).length >= 2,
      );
      const r = await site.cli("hub", ["web1", "test.ping", "-c", site.masterConf]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /web1:\n {4}True/);
    },
  );

  await t.step("deleting a key cuts that minion off within seconds", async () => {
    const presence = await site.masterBus();
    const r = await site.cli("hub", ["key", "-d", "web2", "-y", "-c", site.masterConf]);
    assert.equal(r.code, 0, r.stderr);
    await master.stderr.waitFor(/minion web2's key is no longer accepted: cut off/, 10_000);
    await until("web2 to be gone", async () => {
      const ping = await site.cli("hub", ["web2", "test.ping", "-c", site.masterConf]);
      return /Not connected|did not return/.test(ping.stdout);
    }, 15_000);
    const change = await presence.getEvent({ tag: "salt/presence/change", wait: 10, full: true });
    assert.ok(change, "salt/presence/change");
    await web2.stderr.waitFor(/has not accepted this minion's key/, 20_000);
  });
});
