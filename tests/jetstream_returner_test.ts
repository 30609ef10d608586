/**
 * The `jetstream` returner against a private nats-server with JetStream:
 * the stream made with its limits, events acknowledged before
 * `event_return()` resolves, a master's `event_return: jetstream`, and a
 * clear error without JetStream.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { connect } from "npm:@nats-io/transport-node@3.4.0";
import { jetstreamManager } from "npm:@nats-io/jetstream@3.4.0";
import { resolveConfig } from "../bus/config.ts";
import { startMaster } from "../master/start_master.ts";
import { defaultMasterComponents } from "../master/components.ts";
import { silentLogger } from "../bus/log.ts";
import { eventSubject, JetStreamReturner } from "../returners/jetstream.ts";
import { startNatsServer } from "./nats_server.ts";

async function streamMessages(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

Deno.test("jetstream returner: a bounded stream, every event acknowledged, dots and wildcards encoded", async () => {
  await using nats = await startNatsServer({ jetstream: true });
  const dir = await Deno.makeTempDir();
  try {
    const store = await JetStreamReturner.open({
      node: "master",
      nats_servers: [nats.url],
      sock_dir: dir,
      jetstream: { stream: "T1", subject: "t1.events", max_msgs: 1500 },
    });
    const events = Array.from({ length: 2000 }, (_, i) => ({
      tag: i % 2 ? `salt/job/${i}/ret/web1.example.com` : "a.*.b >",
      data: { i },
    }));
    await store.event_return(events.slice(0, 1000));
    assert.equal(await streamMessages(nats.url, "T1"), 1000, "acknowledged before resolving");
    await store.event_return(events.slice(1000));
    await store.close();
    assert.equal(await streamMessages(nats.url, "T1"), 1500, "max_msgs bounds the stream");
    assert.equal(eventSubject("t1.events", "a.*.b >"), "t1.events.a%2E%2A%2Eb%20%3E");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a master with event_return: jetstream writes its events to the stream; no JetStream is a clear error", async () => {
  await using nats = await startNatsServer({ jetstream: true });
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("master", {
      sock_dir: join(dir, "master"),
      event_return: "jetstream",
      nats_servers: [nats.url],
    });
    const master = await startMaster({
      config,
      log: silentLogger,
      components: defaultMasterComponents(),
    });
    try {
      await using bus = master.bus.getEvent();
      for (let i = 0; i < 50; i++) await bus.fireEvent({ i }, `js/test/${i}`);
    } finally {
      await master.close();
    }
    assert.ok(await streamMessages(nats.url, "SALT_EVENTS") >= 50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await using plain = await startNatsServer();
  const dir2 = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => JetStreamReturner.open({ node: "master", nats_servers: [plain.url], sock_dir: dir2 }),
      /cannot set up stream SALT_EVENTS: .*is JetStream enabled/,
    );
  } finally {
    await Deno.remove(dir2, { recursive: true });
  }
});
