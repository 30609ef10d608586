/**
 * The master↔minion link on real Unix sockets with real broker Workers:
 * forwarding of `fire_master`, start events, refusals, reconnection with the
 * bounded queue, bad input.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { encodeFrame } from "../bus/frame.ts";
import { packEvent } from "../bus/event_codec.ts";
import { masterLinkPath } from "../transport/link_paths.ts";
import { SocketLinkDialer } from "../transport/link_transport.ts";
import { MasterRequestError, requestMaster } from "../link/master_link.ts";
import { type MasterHandle, startMaster } from "../master/start_master.ts";
import { type MinionHandle, startMinion } from "../minion/minion_daemon.ts";
import { startBus } from "../broker/start_bus.ts";
import { captureLog, sleep } from "./harness.ts";

interface Pair extends AsyncDisposable {
  masterDir: string;
  minionDir: string;
  master: MasterHandle | null;
  minion: MinionHandle;
  masterLog: string[];
  minionLog: string[];
  listener: EventClient;
  startAgain(): Promise<void>;
}

/** A master and a minion in temp dirs, and a listener on the master bus. */
async function startPair(minionOptions: Record<string, unknown> = {}): Promise<Pair> {
  const masterDir = await Deno.makeTempDir({ prefix: "saltbus-master-" });
  const minionDir = await Deno.makeTempDir({ prefix: "saltbus-minion-" });
  const masterCapture = captureLog();
  const minionCapture = captureLog();
  const masterConfig = resolveConfig("master", { sock_dir: masterDir });
  let master: MasterHandle | null = await startMaster({
    config: masterConfig,
    log: masterCapture.log,
  });
  let listener = master.bus.getEvent();
  await listener.connected();
  const minion = await startMinion({
    config: resolveConfig("minion", {
      id: "web1",
      sock_dir: minionDir,
      master_sock_dir: masterDir,
      recon_default: 20,
      recon_max: 50,
      ...minionOptions,
    }),
    grains: { os: "Debian", id: "web1" },
    log: minionCapture.log,
  });
  // The start events tell that the link is up.
  await nextEvent(listener, "minion_start");
  await nextEvent(listener, "salt/minion/web1/start");
  const pair: Pair = {
    masterDir,
    minionDir,
    master,
    minion,
    masterLog: masterCapture.lines,
    minionLog: minionCapture.lines,
    get listener() {
      return listener;
    },
    async startAgain() {
      // The bus and a listener first, then the link: nothing the minion
      // sends on reconnecting can pass before the listener is there.
      const bus = await startBus({ node: "master", config: masterConfig, log: masterCapture.log });
      listener = bus.getEvent();
      await listener.connected();
      master = await startMaster({ config: masterConfig, log: masterCapture.log, bus });
      pair.master = master;
    },
    async [Symbol.asyncDispose]() {
      await minion.close();
      await listener.close();
      if (master) {
        const bus = master.bus;
        await master.close();
        await bus.close();
      }
      await Deno.remove(masterDir, { recursive: true });
      await Deno.remove(minionDir, { recursive: true });
    },
  };
  return pair;
}

/** Temp dirs removed on dispose; declare them first so they go last. */
async function tempDirs(count: number) {
  const dirs = await Promise.all(Array.from({ length: count }, () => Deno.makeTempDir()));
  return Object.assign(dirs, {
    async [Symbol.asyncDispose]() {
      for (const dir of dirs) await Deno.remove(dir, { recursive: true });
    },
  });
}

async function nextEvent(listener: EventClient, tag = "", matchType?: "fnmatch") {
  // deno-lint-ignore no-explicit-any
  const event = await listener.getEvent<Record<string, any>>({
    tag,
    full: true,
    wait: 5,
    matchType,
  });
  assert.ok(event, `no event matching ${tag || "anything"} within 5 s`);
  return event;
}

Deno.test("a fire_master event on the minion bus reaches the master bus as a _minion_event load", async () => {
  await using pair = await startPair();
  await using firer = pair.minion.bus.getEvent({ listen: false });
  assert.equal(await firer.fireMaster({ data: "foo1" }, "myco/test/tag"), true);
  const event = await nextEvent(pair.listener, "myco/");
  assert.equal(event.tag, "myco/test/tag");
  const { _stamp, ...rest } = event.data as Record<string, unknown>;
  assert.match(String(_stamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
  assert.deepEqual(rest, {
    cmd: "_minion_event",
    id: "web1",
    tag: "myco/test/tag",
    data: { data: "foo1" },
    pretag: null,
  });
  assert.deepEqual(Object.keys(event.data), ["cmd", "id", "tag", "data", "pretag", "_stamp"]);
});

Deno.test("a starting minion sends minion_start and salt/minion/<id>/start, and the master knows it", async () => {
  await using dirs = await tempDirs(2);
  const [masterDir, minionDir] = dirs;
  await using master = await startMaster({
    config: resolveConfig("master", { sock_dir: masterDir }),
    log: captureLog().log,
  });
  await using listener = master.bus.getEvent();
  await listener.connected();
  const minion = await startMinion({
    config: resolveConfig("minion", {
      id: "db1",
      sock_dir: minionDir,
      master_sock_dir: masterDir,
      start_event_grains: ["os"],
    }),
    grains: { os: "Debian", kernel: "Linux" },
    log: captureLog().log,
  });
  try {
    const legacy = await nextEvent(listener, "minion_start");
    const start = await nextEvent(listener, "salt/minion/db1/start");
    for (const event of [legacy, start]) {
      const data = event.data as Record<string, unknown>;
      assert.equal(data.cmd, "_minion_event");
      assert.equal(data.id, "db1");
      assert.equal(data.tag, event.tag);
      assert.match(
        String(data.data),
        /^Minion db1 started at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/,
      );
      assert.deepEqual(data.grains, { os: "Debian" });
    }
    assert.deepEqual(master.minions.minions.map((m) => [m.id, m.grains.os]), [["db1", "Debian"]]);
    assert.deepEqual(master.minions.known, ["db1"]);
  } finally {
    await minion.close();
  }
  // The master notices the minion leaving; it stays known.
  for (let i = 0; i < 100 && master.minions.minions.length > 0; i++) await sleep(10);
  assert.deepEqual(master.minions.minions, []);
  assert.deepEqual(master.minions.known, ["db1"]);
});

Deno.test("reserved tags from a minion are refused by the minion and by the master", async () => {
  await using pair = await startPair();
  await using firer = pair.minion.bus.getEvent({ listen: false });
  for (
    const tag of [
      "salt/job/20240501123456789012/ret/web1",
      "salt/key",
      "salt/auth",
      "salt/run/20240501123456789012/new",
      "salt/wheel/x/new",
      "salt/cluster/peer",
      "salt/minion/db1/start",
      "20240501123456789012",
    ]
  ) {
    await firer.fireMaster({ evil: true }, tag);
  }
  await firer.fireMaster({ fine: true }, "myco/after");
  // Only the ordinary event arrives; every reserved one was refused with a warning.
  const event = await nextEvent(pair.listener, "");
  assert.equal(event.tag, "myco/after");
  assert.equal(pair.minionLog.filter((l) => l.includes("refusing to forward")).length, 8);
  // A peer that skips the minion's check meets the master's.
  await assert.rejects(
    requestMaster("_minion_event", {
      load: { cmd: "_minion_event", id: "web1", tag: "salt/key", data: {} },
    }, { dialer: linkDialer(pair.masterDir), hello: { role: "client", id: "web1" } }),
    (err: Error) =>
      err instanceof MasterRequestError && /refused: reserved for the master/.test(err.message),
  );
  assert.ok(
    pair.masterLog.some((l) => /warning: refused event salt\/key from minion web1/.test(l)),
  );
  // Nor may a peer speak for another minion.
  await assert.rejects(
    requestMaster("_minion_event", {
      load: { cmd: "_minion_event", id: "db1", tag: "myco/x", data: {} },
    }, { dialer: linkDialer(pair.masterDir), hello: { role: "client", id: "web1" } }),
    /on the link of web1: refused/,
  );
  assert.equal(await pair.listener.getEvent({ wait: 0.2 }), null);
});

Deno.test("the minion queues while the master is away and delivers in order when it is back", async () => {
  await using pair = await startPair();
  await using firer = pair.minion.bus.getEvent({ listen: false });
  await firer.fireMaster({ n: -1 }, "myco/seq");
  assert.equal((await nextEvent(pair.listener, "myco/seq")).data.data.n, -1);
  const oldBus = pair.master!.bus;
  await pair.master!.close();
  await oldBus.close();
  await pair.listener.close();
  pair.master = null;
  for (let i = 0; i < 200 && pair.minion.link.connected; i++) await sleep(10);
  assert.equal(pair.minion.link.connected, false);
  for (let n = 0; n < 100; n++) await firer.fireMaster({ n }, "myco/seq");
  for (let i = 0; i < 200 && pair.minion.link.stats.queued < 100; i++) await sleep(10);
  assert.equal(pair.minion.link.stats.queued, 100);
  await pair.startAgain();
  for (let n = 0; n < 100; n++) {
    const event = await nextEvent(pair.listener, "myco/seq");
    assert.equal(event.data.data.n, n);
  }
  assert.ok(pair.minionLog.some((l) => l.includes("lost the master")));
  assert.ok(pair.minionLog.some((l) => l.includes("sent 100 queued messages")));
});

Deno.test("what overflows the queue while the master is away is counted and logged", async () => {
  await using pair = await startPair({ master_queue_size: 5 });
  await using firer = pair.minion.bus.getEvent({ listen: false });
  const oldBus = pair.master!.bus;
  await pair.master!.close();
  await oldBus.close();
  pair.master = null;
  for (let i = 0; i < 200 && pair.minion.link.connected; i++) await sleep(10);
  for (let n = 0; n < 8; n++) await firer.fireMaster({ n }, "myco/over");
  for (let i = 0; i < 200 && pair.minion.link.stats.dropped < 3; i++) await sleep(10);
  assert.deepEqual(
    { queued: pair.minion.link.stats.queued, dropped: pair.minion.link.stats.dropped },
    { queued: 5, dropped: 3 },
  );
  await pair.startAgain();
  for (let n = 0; n < 5; n++) {
    assert.equal((await nextEvent(pair.listener, "myco/over")).data.data.n, n);
  }
  assert.equal(await pair.listener.getEvent({ tag: "myco/over", wait: 0.2 }), null);
  assert.ok(pair.minionLog.some((l) => l.includes("sent 5 queued messages, 3 dropped")));
  assert.ok(pair.minionLog.some((l) => l.includes("dropping new ones")));
});

Deno.test("a minion started before its master waits for it", async () => {
  await using dirs = await tempDirs(2);
  const [masterDir, minionDir] = dirs;
  const minion = await startMinion({
    config: resolveConfig("minion", {
      id: "early",
      sock_dir: minionDir,
      master_sock_dir: masterDir,
      recon_default: 20,
      recon_max: 40,
    }),
    log: captureLog().log,
  });
  try {
    await using firer = minion.bus.getEvent({ listen: false });
    await firer.fireMaster({ early: true }, "myco/early");
    await sleep(100);
    const bus = await startBus({ sockDir: masterDir, log: captureLog().log });
    await using listener = bus.getEvent();
    await listener.connected();
    await using master = await startMaster({
      config: bus.config,
      bus,
      log: captureLog().log,
    });
    assert.equal((await nextEvent(listener, "minion_start")).data.id, "early");
    assert.equal((await nextEvent(listener, "salt/minion/early/start")).data.id, "early");
    assert.deepEqual((await nextEvent(listener, "myco/early")).data.data, { early: true });
    await master.close();
    await bus.close();
  } finally {
    await minion.close();
  }
});

Deno.test("bad bytes on the link close that connection only", async () => {
  await using pair = await startPair();
  const path = masterLinkPath(pair.masterDir);
  const bad = await Deno.connect({ transport: "unix", path });
  await bad.write(new Uint8Array([0xc1, 0xc1, 0xc1, 0xc1]));
  assert.equal(await bad.read(new Uint8Array(16)), null);
  bad.close();
  const noHello = await Deno.connect({ transport: "unix", path });
  await noHello.write(encodeFrame(packEvent("_minion_event", { load: {} })));
  assert.equal(await noHello.read(new Uint8Array(16)), null);
  noHello.close();
  assert.ok(pair.masterLog.some((l) => /closing the connection of an unidentified peer/.test(l)));
  // The minion's own link is untouched.
  await using firer = pair.minion.bus.getEvent({ listen: false });
  await firer.fireMaster({ still: "here" }, "myco/alive");
  assert.deepEqual((await nextEvent(pair.listener, "myco/alive")).data.data, { still: "here" });
});

Deno.test("a _return load becomes salt/job/<jid>/ret/<id>", async () => {
  await using pair = await startPair();
  const load = {
    cmd: "_return",
    id: "web1",
    jid: "20240501123456789012",
    fun: "test.ping",
    fun_args: [],
    return: true,
    retcode: 0,
    success: true,
  };
  assert.equal(
    await requestMaster("_return", { load }, {
      dialer: linkDialer(pair.masterDir),
      hello: { role: "client", id: "web1" },
    }),
    true,
  );
  const event = await nextEvent(pair.listener, "salt/job/");
  assert.equal(event.tag, "salt/job/20240501123456789012/ret/web1");
  const { _stamp, ...rest } = event.data as Record<string, unknown>;
  assert.deepEqual(rest, load);
});

Deno.test("presence_events: salt/presence/change as minions come and go, salt/presence/present each loop_interval", async () => {
  await using dirs = await tempDirs(2);
  const [masterDir, minionDir] = dirs;
  await using master = await startMaster({
    config: resolveConfig("master", {
      sock_dir: masterDir,
      presence_events: true,
      loop_interval: 0.2,
    }),
    log: captureLog().log,
  });
  await using listener = master.bus.getEvent();
  await listener.connected();
  const minion = await startMinion({
    config: resolveConfig("minion", { id: "p1", sock_dir: minionDir, master_sock_dir: masterDir }),
    log: captureLog().log,
  });
  try {
    listener.subscribe("salt/presence/present");
    const change = await nextEvent(listener, "salt/presence/change");
    assert.deepEqual({ ...change.data, _stamp: undefined }, {
      new: ["p1"],
      lost: [],
      _stamp: undefined,
    });
    let present = await nextEvent(listener, "salt/presence/present");
    while (present.data.present.length === 0) {
      present = await nextEvent(listener, "salt/presence/present");
    }
    assert.deepEqual(present.data.present, ["p1"]);
  } finally {
    await minion.close();
  }
  const lost = await nextEvent(listener, "salt/presence/change");
  assert.deepEqual([lost.data.new, lost.data.lost], [[], ["p1"]]);
});

function linkDialer(masterDir: string): SocketLinkDialer {
  return new SocketLinkDialer(masterLinkPath(masterDir));
}
