import assert from "node:assert/strict";
import { silentLogger } from "../bus/log.ts";
import { decodeHeader, HEADER_SIZE, NatsSession, newSessionId } from "./nats_session.ts";

/** Two sessions wired back to back through a lossy wire that can be cut. */
function pair(options: { maxPayload?: number; outboxBytes?: number } = {}) {
  const id = newSessionId();
  let cut = false;
  const sessions: NatsSession[] = [];
  const wire = (to: () => NatsSession) => (frame: Uint8Array) => {
    if (cut) return; // NATS drops what is published while disconnected, silently
    const copy = frame.slice();
    queueMicrotask(() => {
      const header = decodeHeader(copy)!;
      to().receive(header, copy.subarray(HEADER_SIZE));
    });
  };
  const make = (to: () => NatsSession, label: string) =>
    new NatsSession({
      id,
      publish: wire(to),
      maxPayload: options.maxPayload ?? 1 << 20,
      outboxBytes: options.outboxBytes,
      log: silentLogger,
      label,
      retransmitMs: 100,
    });
  sessions.push(make(() => sessions[1], "a"), make(() => sessions[0], "b"));
  return {
    a: sessions[0],
    b: sessions[1],
    cut: (value: boolean) => cut = value,
    dispose: () => sessions.forEach((s) => s.dispose()),
  };
}

async function readAll(session: NatsSession, bytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < bytes) {
    const chunk = await session.read();
    if (chunk === null) break;
    chunks.push(chunk);
    got += chunk.length;
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

Deno.test("NatsSession: a stream split into frames arrives whole and in order", async () => {
  const p = pair({ maxPayload: 1100 });
  try {
    const data = crypto.getRandomValues(new Uint8Array(50_000));
    await p.a.write(data);
    assert.deepEqual(await readAll(p.b, data.length), data);
  } finally {
    p.dispose();
  }
});

Deno.test("NatsSession: what a cut wire dropped is sent again, nothing lost or doubled", async () => {
  const p = pair();
  try {
    const sent: number[] = [];
    for (let i = 0; i < 300; i++) {
      if (i === 100) p.cut(true);
      if (i === 200) p.cut(false);
      sent.push(i);
      await p.a.write(new Uint8Array([i & 0xff, i >> 8]));
    }
    const got = await readAll(p.b, 600);
    const values = [];
    for (let i = 0; i < got.length; i += 2) values.push(got[i] | (got[i + 1] << 8));
    assert.deepEqual(values, sent);
    // After a reconnection both sides resync at once, without waiting for the timer.
    p.cut(true);
    await p.a.write(new Uint8Array([7]));
    p.cut(false);
    p.b.resync();
    assert.deepEqual(await readAll(p.b, 1), new Uint8Array([7]));
  } finally {
    p.dispose();
  }
});

Deno.test("NatsSession: FIN ends the peer's stream after the data; a full outbox drops whole writes and counts them", async () => {
  const p = pair({ outboxBytes: 200 });
  try {
    p.cut(true);
    await p.a.write(new Uint8Array(100));
    await p.a.write(new Uint8Array(100)); // does not fit: dropped whole
    assert.deepEqual(p.a.dropped, { writes: 1, bytes: 100 });
    p.cut(false);
    p.a.close();
    assert.equal((await readAll(p.b, 1000)).length, 100);
    assert.equal(await p.b.read(), null);
    await assert.rejects(() => p.a.write(new Uint8Array(1)), /session ended/);
  } finally {
    p.dispose();
  }
});

Deno.test("NatsSession: a probe ends a session whose peer is gone, and keeps a live one", async () => {
  const p = pair();
  try {
    p.a.probe(100);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(p.a.ended, false, "a live peer answers");
    p.cut(true);
    p.a.probe(100);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(p.a.ended, true, "nothing heard: ended");
  } finally {
    p.dispose();
  }
});
