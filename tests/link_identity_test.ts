/**
 * Link identities against a real master (in-process on real sockets, and as
 * real processes): one live connection per minion id, what a client link may
 * not say, who may return for a job, reserved tags end to end, known minions
 * that age out, and a minion that leaves mid-job reported `[Not connected]`
 * at once.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import type { EventClient } from "../bus/event_client.ts";
import { LinkConnection, type LinkMessage } from "../link/link_connection.ts";
import { publishJob } from "../master/job_publisher.ts";
import { type MasterHandle, startMaster } from "../master/start_master.ts";
import { dialEndpoint } from "../transport/endpoint.ts";
import { masterLinkPath } from "../transport/link_paths.ts";
import { type Daemon, makeSite, startDaemon } from "./daemons.ts";
import { captureLog, collect, runCli, sleep, spawnCli } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

/** A hand-made link peer that can send requests and see what the master pushes. */
class RawPeer implements Disposable {
  readonly pushed: LinkMessage[] = [];
  readonly #connection: LinkConnection;
  readonly #replies = new Map<number, PromiseWithResolvers<LinkMessage>>();
  #mid = 1;
  readonly welcome: Promise<LinkMessage>;
  readonly #reading: Promise<void>;

  private constructor(connection: LinkConnection, hello: Record<string, unknown>) {
    this.#connection = connection;
    const welcome = Promise.withResolvers<LinkMessage>();
    this.welcome = welcome.promise;
    connection.send("_hello", hello);
    this.#reading = (async () => {
      for await (const message of connection.messages()) {
        if (message.tag === "_welcome" || message.tag === "_refused") welcome.resolve(message);
        else if (message.tag === "_reply") {
          this.#replies.get(message.data.mid as number)?.resolve(message);
        } else this.pushed.push(message);
      }
      welcome.reject(new Error("closed before the welcome"));
    })();
    this.welcome.catch(() => {});
  }

  static async connect(masterDir: string, hello: Record<string, unknown>): Promise<RawPeer> {
    const peer = new RawPeer(
      new LinkConnection(await dialEndpoint(masterLinkPath(masterDir))),
      hello,
    );
    assert.equal((await peer.welcome).tag, "_welcome");
    return peer;
  }

  /** Sends a request; resolves `{ok, result | error}`. */
  async request(tag: string, data: Record<string, unknown>): Promise<AnyRecord> {
    const mid = this.#mid++;
    const reply = Promise.withResolvers<LinkMessage>();
    this.#replies.set(mid, reply);
    this.#connection.send(tag, { ...data, mid });
    return (await reply.promise).data;
  }

  async close(): Promise<void> {
    this.#connection.close();
    await this.#reading;
  }

  [Symbol.dispose](): void {
    this.#connection.close();
  }
}

async function inProcessMaster(): Promise<
  { master: MasterHandle; listener: EventClient; lines: string[] } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-identity-" });
  const { log, lines } = captureLog();
  const master = await startMaster({ config: resolveConfig("master", { sock_dir: dir }), log });
  const listener = master.bus.getEvent();
  await listener.connected();
  return {
    master,
    listener,
    lines,
    async [Symbol.asyncDispose]() {
      await listener.close();
      const bus = master.bus;
      await master.close();
      await bus.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function event(id: string, tag: string, data: unknown = {}) {
  return { load: { cmd: "_minion_event", id, tag, data } };
}

function returnFor(id: string, jid: string) {
  return {
    load: {
      cmd: "_return",
      id,
      jid,
      fun: "test.ping",
      fun_args: [],
      return: true,
      retcode: 0,
      success: true,
    },
  };
}

Deno.test("a client link cannot speak as a minion: no start events, no presence, no return for a published job", async () => {
  await using t = await inProcessMaster();
  const sockDir = t.master.context.config.sock_dir;
  using web1 = await RawPeer.connect(sockDir, { role: "minion", id: "web1" });
  using client = await RawPeer.connect(sockDir, { role: "client", id: "web1" });
  assert.deepEqual(t.master.minions.minions.map((m) => m.id), ["web1"]);
  for (const tag of ["salt/minion/web1/start", "minion_start", "salt/presence/present"]) {
    const answer = await client.request("_minion_event", event("web1", tag, { present: ["f"] }));
    assert.equal(answer.ok, false, tag);
    assert.match(answer.error, /refused/, tag);
  }
  const { jid } = await publishJob(t.master.minions, t.master.events, {
    tgt: "web1",
    fun: "test.ping",
  });
  for (let i = 0; i < 200 && web1.pushed.length === 0; i++) await sleep(5);
  assert.deepEqual(web1.pushed.map((m) => m.tag), ["_publish"], "the real web1 got the job");
  assert.deepEqual(client.pushed, [], "the client link did not");
  const forged = await client.request("_return", returnFor("web1", jid));
  assert.equal(forged.ok, false);
  assert.match(forged.error, /published to minions: only they return for it, not a client link/);
  // salt-call's own return (a job id the master never published) still goes through.
  const own = "20240501123456789012";
  const accepted = await client.request("_return", returnFor("web1", own));
  assert.deepEqual([accepted.ok, accepted.result], [true, true]);
  const seen = await t.listener.getEvent<AnyRecord>({ tag: "salt/job/", full: true, wait: 5 });
  assert.equal(seen?.tag, `salt/job/${jid}/new`);
  const next = await t.listener.getEvent<AnyRecord>({ tag: "salt/job/", full: true, wait: 5 });
  assert.equal(next?.tag, `salt/job/${own}/ret/web1`, "nothing forged came before it");
  assert.deepEqual(t.master.minions.minions.map((m) => m.id), ["web1"]);
  assert.ok(t.lines.some((l) => /refused _return from minion web1 \(on a client link\)/.test(l)));
});

Deno.test("a minion's _return is accepted only for a job published to it, and only once", async () => {
  await using t = await inProcessMaster();
  const sockDir = t.master.context.config.sock_dir;
  using web1 = await RawPeer.connect(sockDir, { role: "minion", id: "web1" });
  using db1 = await RawPeer.connect(sockDir, { role: "minion", id: "db1" });
  const { jid, minions } = await publishJob(t.master.minions, t.master.events, {
    tgt: "web*",
    fun: "test.ping",
  });
  assert.deepEqual(minions, ["web1"]);
  for (let i = 0; i < 200 && web1.pushed.length === 0; i++) await sleep(5);
  assert.deepEqual(web1.pushed.map((m) => [m.tag, m.data.jid]), [["_publish", jid]]);
  assert.deepEqual(db1.pushed, [], "a minion the job does not target is not sent it");
  const other = await db1.request("_return", returnFor("db1", jid));
  assert.match(other.error, /job \d{20} was not published to minion db1/);
  const never = await web1.request("_return", returnFor("web1", "20240501123456789012"));
  assert.match(never.error, /was not published to minion web1/);
  assert.equal((await web1.request("_return", returnFor("web1", jid))).ok, true);
  const again = await web1.request("_return", returnFor("web1", jid));
  assert.match(again.error, /or it returned already/);
  const rets: string[] = [];
  for (
    let event;
    (event = await t.listener.getEvent({ tag: "salt/job/", full: true, wait: 0.3 }));
  ) {
    if (event.tag.includes("/ret/")) rets.push(event.tag);
  }
  assert.deepEqual(rets, [`salt/job/${jid}/ret/web1`]);
});

Deno.test("every tag of the reserved-tag gaps is refused by a real master from a minion link", async () => {
  await using t = await inProcessMaster();
  using rogue = await RawPeer.connect(t.master.context.config.sock_dir, {
    role: "minion",
    id: "rogue",
  });
  for (
    const tag of [
      "salt/minion/web2",
      "salt/beacon/web2/inotify/etc",
      "salt/presence/present",
      "salt/presence/change",
      "salt/netapi/hook/deploy",
      "saltbus/subscriber/dropped",
      "saltbus/api/missed",
    ]
  ) {
    const answer = await rogue.request("_minion_event", event("rogue", tag, { present: ["f1"] }));
    assert.equal(answer.ok, false, tag);
    assert.match(answer.error, /refused/, tag);
  }
  assert.equal((await rogue.request("_minion_event", event("rogue", "myco/fine"))).ok, true);
  const first = await t.listener.getEvent<AnyRecord>({ full: true, wait: 5 });
  assert.equal(first?.tag, "myco/fine", "nothing refused reached the bus");
});

Deno.test("a second minion daemon with a live minion's id is refused; the live one keeps its link and the second gets in after it leaves", async () => {
  await using site = await makeSite();
  await site.master();
  const first = await site.minion("web1");
  await first.stderr.waitFor("connected to the master");
  await using second = await startDaemon([
    "minion",
    "--id",
    "web1",
    "--sock-dir",
    `${site.workDir}/second`,
    "--master-sock-dir",
    site.masterDir,
  ], "minion web1 ready");
  await second.stderr.waitFor(/refused this link: minion web1 is already connected/);
  const ping = await runCli(["web1", "test.ping", "--sock-dir", site.masterDir]);
  assert.equal(ping.stdout, "web1:\n    True\n");
  assert.equal(ping.code, 0, ping.stderr);
  assert.doesNotMatch(first.stderr.text, /lost the master/);
  await first.stop();
  await second.stderr.waitFor("accepted this link after refusing it");
});

Deno.test("20,000 fake hellos do not stay known: '*' test.ping lists at most known_minions_max, and only real minions once they expire", async () => {
  await using site = await makeSite();
  const config = `${site.workDir}/master.yaml`;
  await Deno.writeTextFile(config, "known_minions_expire: 2\nknown_minions_max: 50\n");
  await using _master = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  const web1 = await site.minion("web1");
  await web1.stderr.waitFor("connected to the master");
  const total = 20_000;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const peer = await RawPeer.connect(site.masterDir, { role: "minion", id: `fake${next++}` });
      await peer.close();
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  const flooded = await runCli(["*", "test.ping", "--sock-dir", site.masterDir, "--timeout", "2"]);
  const notConnected = flooded.stdout.match(/\[Not connected\]/g)?.length ?? 0;
  assert.ok(notConnected <= 50, `${notConnected} Not connected lines`);
  assert.match(flooded.stdout, /web1:\n {4}True\n/);
  await sleep(2_100); // known_minions_expire
  const later = await runCli(["*", "test.ping", "--sock-dir", site.masterDir]);
  assert.equal(later.stdout, "web1:\n    True\n");
  assert.equal(later.code, 0, later.stderr);
});

Deno.test("a minion killed mid-job is reported [Not connected] at once; the job does not wait for its timeout", async () => {
  await using site = await makeSite();
  await site.master();
  const minions: Daemon[] = [];
  for (const id of ["web1", "web2"]) minions.push(await site.minion(id));
  for (const minion of minions) await minion.stderr.waitFor("connected to the master");
  const listener = await site.masterBus();
  const child = spawnCli([
    "web*",
    "test.sleep",
    "4",
    "--timeout",
    "15",
    "--sock-dir",
    site.masterDir,
  ]);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const created = await listener.getEvent<AnyRecord>({
    tag: "salt/job/*/new",
    matchType: "fnmatch",
    full: true,
    wait: 20,
  });
  assert.ok(created, "the job was not published");
  assert.deepEqual(created.data.minions, ["web1", "web2"]);
  await sleep(1_500);
  minions[0].child.kill("SIGKILL");
  const status = await child.status;
  await stdout.done;
  await stderr.done;
  assert.equal(status.code, 1, stderr.text);
  // web1 is reported as soon as it is gone: before web2's return, not after a 15 s wait.
  assert.equal(stdout.text, "web1:\n    Minion did not return. [Not connected]\nweb2:\n    True\n");
});

Deno.test("the link options are checked: heartbeat and expiry in seconds > 0, known_minions_max a positive integer", () => {
  for (
    const [option, value] of [
      ["link_heartbeat_interval", 0],
      ["link_heartbeat_interval", "5"],
      ["known_minions_expire", -1],
      ["known_minions_max", 1.5],
    ] as const
  ) {
    assert.throws(
      () => resolveConfig("minion", { id: "m1", [option]: value }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith(`${option} in options`),
    );
  }
  assert.equal(resolveConfig("master", { known_minions_expire: 60 }).known_minions_expire, 60);
});
