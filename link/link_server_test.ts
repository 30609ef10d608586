/**
 * The master's link server on a real Unix socket in a temp dir: one live
 * connection per minion id, heartbeats, refusals, and the bounded,
 * expiring set of known minions.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { dialEndpoint } from "../transport/endpoint.ts";
import { masterLinkPath } from "../transport/link_paths.ts";
import { listenLink, SocketLinkDialer } from "../transport/link_transport.ts";
import { captureLog, sleep } from "../tests/harness.ts";
import { LinkConnection, type LinkMessage } from "./link_connection.ts";
import { MinionLinkServer, type MinionLinkServerOptions } from "./link_server.ts";
import { MasterLink } from "./master_link.ts";

interface TestServer extends AsyncDisposable {
  server: MinionLinkServer;
  path: string;
  lines: string[];
  presence: string[];
}

async function startServer(
  options: Omit<MinionLinkServerOptions, "listener" | "log"> = {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-link-" });
  const { log, lines } = captureLog();
  const server = MinionLinkServer.listen({
    listener: await listenLink(resolveConfig("master", { sock_dir: dir })),
    log,
    ...options,
  });
  const presence: string[] = [];
  server.onPresence((id, up) => presence.push(`${id} ${up ? "up" : "down"}`));
  return {
    server,
    path: masterLinkPath(dir),
    lines,
    presence,
    async [Symbol.asyncDispose]() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A hand-made link peer: says hello and reads what comes back. */
interface RawPeer extends Disposable {
  /** The master's first answer (`_welcome` or `_refused`). */
  first: LinkMessage;
  connection: LinkConnection;
  /** The next message, or `null` once the master closed the connection. */
  next(): Promise<LinkMessage | null>;
}

async function rawPeer(path: string, hello: Record<string, unknown>): Promise<RawPeer> {
  const connection = new LinkConnection(await dialEndpoint(path));
  const messages = connection.messages();
  connection.send("_hello", hello);
  const next = async () => {
    const result = await messages.next();
    return result.done ? null : result.value;
  };
  const first = await next();
  assert.ok(first, "the master closed the connection without answering the hello");
  return { first, connection, next, [Symbol.dispose]: () => connection.close() };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function minionLink(path: string, pid: number, extra: Record<string, unknown> = {}) {
  const { log, lines } = captureLog();
  const link = new MasterLink({
    dialer: new SocketLinkDialer(path),
    hello: () => ({ role: "minion", id: "web1", pid }),
    log,
    reconnectMs: 20,
    reconnectMaxMs: 50,
    ...extra,
  });
  return { link, lines };
}

Deno.test("a second minion hello for a connected id is refused and closed; the live minion is not kicked", async () => {
  await using t = await startServer();
  t.server.handle("_ping", () => "pong");
  const { link: live } = minionLink(t.path, 111, { heartbeatMs: 1000 });
  await using _live = live;
  assert.equal(await live.waitConnected(5000), true);
  using impostor = await rawPeer(t.path, { role: "minion", id: "web1", pid: 222 });
  assert.equal(impostor.first.tag, "_refused");
  assert.match(
    String(impostor.first.data.error),
    /minion web1 is already connected \(pid 111\) and alive/,
  );
  assert.equal(await impostor.next(), null, "the refused connection is closed");
  assert.deepEqual(t.server.minions.map((m) => [m.id, m.pid]), [["web1", 111]]);
  assert.equal(await live.request("_ping", {}), "pong", "the live link still works");
  assert.deepEqual(t.presence, ["web1 up"]);
  assert.ok(t.lines.some((l) => /warning: refused a second connection for minion web1/.test(l)));
});

Deno.test("a live minion that sends heartbeats is not replaced, however long it has been idle", async () => {
  await using t = await startServer();
  const { link: live } = minionLink(t.path, 111, { heartbeatMs: 20 });
  await using _live = live;
  assert.equal(await live.waitConnected(5000), true);
  const since = t.server.minions[0].since.getTime();
  await sleep(200); // ten heartbeat intervals with nothing else sent
  assert.equal(t.server.minions[0].heartbeatMs, 20);
  assert.ok(t.server.minions[0].lastHeard.getTime() > since, "heartbeats were heard");
  using impostor = await rawPeer(t.path, { role: "minion", id: "web1", pid: 222 });
  assert.equal(impostor.first.tag, "_refused");
  assert.deepEqual(t.server.minions.map((m) => m.pid), [111]);
});

Deno.test("a minion that missed its heartbeats is replaced by a new hello for its id", async () => {
  await using t = await startServer();
  using hung = await rawPeer(t.path, { role: "minion", id: "web1", pid: 111, heartbeat_ms: 20 });
  assert.equal(hung.first.tag, "_welcome");
  await sleep(100); // more than three intervals of 20 ms, and no heartbeat
  using fresh = await rawPeer(t.path, { role: "minion", id: "web1", pid: 222 });
  assert.equal(fresh.first.tag, "_welcome");
  assert.equal(await hung.next(), null, "the silent connection is closed");
  assert.deepEqual(t.server.minions.map((m) => m.pid), [222]);
  assert.deepEqual(t.presence, ["web1 up"], "no down and up in between");
  assert.ok(t.lines.some((l) => /minion web1 connected again .* heartbeats missed/.test(l)));
});

Deno.test("a refused MasterLink logs it once, keeps trying, and gets in once the live minion has left", async () => {
  await using t = await startServer();
  const live = await rawPeer(t.path, {
    role: "minion",
    id: "web1",
    pid: 111,
    heartbeat_ms: 60_000,
  });
  assert.equal(live.first.tag, "_welcome");
  const { link: second, lines } = minionLink(t.path, 222, { heartbeatMs: 1000 });
  await using _second = second;
  await until("two refusals", () => second.stats.refused >= 2);
  assert.equal(second.connected, false);
  assert.equal(lines.filter((l) => l.includes("refused this link")).length, 1);
  live.connection.close();
  assert.equal(await second.waitConnected(5000), true);
  assert.deepEqual(t.server.minions.map((m) => m.pid), [222]);
  assert.ok(lines.some((l) => l.includes("accepted this link after refusing it")));
});

Deno.test("a client hello never takes a minion's place, and a client is not a known minion", async () => {
  await using t = await startServer();
  using live = await rawPeer(t.path, { role: "minion", id: "web1", pid: 111 });
  using client = await rawPeer(t.path, { role: "client", id: "web1", pid: 222 });
  assert.equal(live.first.tag, "_welcome");
  assert.equal(client.first.tag, "_welcome");
  using other = await rawPeer(t.path, { role: "client", id: "web9" });
  assert.equal(other.first.tag, "_welcome");
  assert.deepEqual(t.server.minions.map((m) => [m.id, m.pid]), [["web1", 111]]);
  assert.deepEqual(t.server.known, ["web1"]);
  assert.deepEqual(t.presence, ["web1 up"]);
});

Deno.test("minions that went away are forgotten after knownExpireMs, at most knownMax are kept, and connected ones stay", async () => {
  let clock = 1_000_000;
  await using t = await startServer({ knownExpireMs: 1000, knownMax: 3, now: () => clock });
  using live = await rawPeer(t.path, { role: "minion", id: "live" });
  assert.equal(live.first.tag, "_welcome");
  for (let n = 0; n < 5; n++) {
    const peer = await rawPeer(t.path, { role: "minion", id: `m${n}` });
    peer.connection.close();
    await until(`m${n} gone`, () => !t.server.isConnected(`m${n}`));
    clock += 10;
  }
  assert.deepEqual(t.server.known, ["live", "m2", "m3", "m4"]);
  assert.equal(t.server.grainsOf("m0"), undefined);
  // m2, m3 and m4 went away at +20, +30 and +40 ms; now is +50.
  clock += 975; // m2 went away 1005 ms ago, m3 995 ms ago
  assert.deepEqual(t.server.known, ["live", "m3", "m4"]);
  clock += 100;
  assert.deepEqual(t.server.known, ["live"], "the connected minion stays known");
  assert.ok(t.lines.some((l) => /forgot 1 minion that went away/.test(l)));
});

Deno.test("20,000 fake hellos leave at most known_minions_max minions known, and none a day later", async () => {
  let clock = 1_000_000;
  await using t = await startServer({ now: () => clock });
  const total = 20_000;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const peer = await rawPeer(t.path, { role: "minion", id: `fake${next++}` });
      assert.equal(peer.first.tag, "_welcome");
      peer.connection.close();
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  await until("every fake minion gone", () => t.server.minions.length === 0, 30_000);
  const known = t.server.known;
  assert.equal(known.length, 10_000, "the default bound");
  assert.ok(known.includes(`fake${total - 1}`) && !known.includes("fake0"), "the newest are kept");
  clock += 24 * 60 * 60 * 1000 + 1;
  assert.deepEqual(t.server.known, []);
});
