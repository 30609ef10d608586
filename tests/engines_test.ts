/**
 * Engines in real master and minion processes: a custom engine from
 * `engines_dirs`, one that throws at start (logged, fired as
 * `saltbus/engine/<name>/error`, restarted with back-off while the master
 * carries on), the webhook engine over HTTP, http_logstash into a real HTTP
 * server that goes down and comes back (every event exactly once), and a
 * minion's engine whose event reaches the master bus.
 */
import assert from "node:assert/strict";
import type { EventClient } from "../bus/event_client.ts";
import { makeSite, startDaemon } from "./daemons.ts";
import { sleep } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

// Fires every 300 ms, so a listener that connects after the daemon started still sees it.
const HELLO = `export async function start(options, ctx) {
  while (!ctx.signal.aborted) {
    await ctx.fire("myco/hello/" + ctx.name, { greeting: options.greeting, role: ctx.role, id: ctx.opts.id });
    await ctx.sleep(300);
  }
}
`;
const BOOM = `export function start() { throw new Error("boom at start"); }\n`;

async function waitFor(
  listener: EventClient,
  pred: (e: { tag: string; data: AnyRecord }) => boolean,
  what: string,
  seen: { tag: string; data: AnyRecord }[] = [],
): Promise<{ tag: string; data: AnyRecord }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const event = await listener.getEvent<AnyRecord>({ full: true, wait: 1 });
    if (!event) continue;
    seen.push(event);
    if (pred(event)) return event;
  }
  throw new Error(`timed out waiting for ${what}`);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("master engines: custom, failing, webhook and http_logstash", async (t) => {
  await using site = await makeSite();
  const w = site.workDir;
  await Deno.mkdir(`${w}/engines`);
  await Deno.writeTextFile(`${w}/engines/hello.ts`, HELLO);
  await Deno.writeTextFile(`${w}/engines/boom.ts`, BOOM);
  const hookPort = freePort();
  const logPort = freePort();
  const received: unknown[] = [];
  const batches: unknown[][] = [];
  const serve = () =>
    Deno.serve({ hostname: "127.0.0.1", port: logPort, onListen() {} }, async (req) => {
      const body = await req.json();
      if (new URL(req.url).pathname === "/batch") batches.push(body);
      else received.push(body);
      return new Response("ok");
    });
  let server = serve();
  const config = `${w}/master.yaml`;
  await Deno.writeTextFile(
    config,
    `engines_dirs: [${w}/engines]
engine_restart_delay: 0.5
engine_restart_max_delay: 2
engines:
  - hello:
      greeting: hi
  - hello2:
      engine_module: hello
      greeting: again
  - boom
  - webhook:
      address: 127.0.0.1
      port: ${hookPort}
  - http_logstash:
      url: http://127.0.0.1:${logPort}/
      tags: ['myco/log/*']
  - batched:
      engine_module: http_logstash
      url: http://127.0.0.1:${logPort}/batch
      tags: ['myco/log/*']
      batch: 4
`,
  );
  const master = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  try {
    const bus = await site.masterBus();
    const seen: { tag: string; data: AnyRecord }[] = [];

    await t.step(
      "a custom engine from engines_dirs runs with its options, also aliased",
      async () => {
        await waitFor(
          bus,
          () =>
            seen.some((e) => e.tag === "myco/hello/hello") &&
            seen.some((e) => e.tag === "myco/hello/hello2"),
          "both hello events",
          seen,
        );
        const a = seen.find((e) => e.tag === "myco/hello/hello")!;
        const b = seen.find((e) => e.tag === "myco/hello/hello2")!;
        assert.equal(a.data.greeting, "hi");
        assert.equal(a.data.role, "master");
        assert.equal(b.data.greeting, "again");
      },
    );

    await t.step(
      "an engine that throws at start is logged, fired and restarted with back-off",
      async () => {
        const errors: AnyRecord[] = [];
        while (errors.length < 2) {
          const e = await waitFor(bus, (e) => e.tag === "saltbus/engine/boom/error", "boom errors");
          errors.push(e.data);
        }
        assert.equal(errors[0].reason, "threw");
        assert.match(errors[0].error, /boom at start/);
        assert.equal(errors[1].failures, errors[0].failures + 1);
        assert.ok(errors[1].restart_in_seconds <= 2);
        // The back-off doubles from engine_restart_delay up to engine_restart_max_delay.
        await master.stderr.waitFor(/restarting in 0\.5 s \(failure 1\)/);
        await master.stderr.waitFor(/restarting in 1 s \(failure 2\)/);
        await master.stderr.waitFor(/restarting in 2 s \(failure 3\)/);
        await master.stderr.waitFor("Engine 'boom' could not be started!");
      },
    );

    await t.step("the webhook engine fires POSTs as salt/engines/hook/<path>", async () => {
      const get = await fetch(`http://127.0.0.1:${hookPort}/x`);
      await get.body?.cancel();
      assert.equal(get.status, 405);
      const res = await fetch(`http://127.0.0.1:${hookPort}/my/hook`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a": 1}',
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const e = await waitFor(bus, (e) => e.tag === "salt/engines/hook/my/hook", "the hook event");
      assert.equal(e.data.body, '{"a": 1}');
      assert.equal(e.data.headers["Content-Type"], "application/json");
    });

    await t.step(
      "http_logstash delivers every event exactly once across a target outage",
      async () => {
        const sender = await site.masterBus();
        for (let i = 0; i < 5; i++) await sender.fireEvent({ n: i }, `myco/log/${i}`);
        await sender.fireEvent({ n: -1 }, "myco/other");
        const until = Date.now() + 15_000;
        while (received.length < 5 && Date.now() < until) await sleep(50);
        assert.equal(received.length, 5);
        await server.shutdown();
        for (let i = 5; i < 10; i++) await sender.fireEvent({ n: i }, `myco/log/${i}`);
        await sleep(1500);
        server = serve();
        while (received.length < 10 && Date.now() < until + 20_000) await sleep(50);
        await sleep(500);
        const ns = received.map((r) => (r as AnyRecord).n).sort((a, b) => a - b);
        assert.deepEqual(ns, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        // batch: 4 posts JSON arrays of up to 4 events, also exactly once each.
        while (batches.flat().length < 10 && Date.now() < until + 25_000) await sleep(50);
        assert.ok(batches.every((b) => Array.isArray(b) && b.length >= 1 && b.length <= 4));
        assert.ok(batches.some((b) => b.length > 1), "the queued events went in batches");
        const bs = batches.flat().map((r) => (r as AnyRecord).n).sort((a, b) => a - b);
        assert.deepEqual(bs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      },
    );

    await t.step("the master keeps running and shuts its engines down cleanly", async () => {
      const res = await fetch(`http://127.0.0.1:${hookPort}/still/up`, { method: "POST" });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const code = await master.stop();
      assert.equal(code, 0, master.stderr.text);
      assert.doesNotMatch(master.stderr.text, /did not stop within/);
    });
  } finally {
    await master.stop();
    await server.shutdown();
  }
});

Deno.test("a minion's engine fires events that reach the master bus", async () => {
  await using site = await makeSite();
  const w = site.workDir;
  await Deno.mkdir(`${w}/engines`);
  await Deno.writeTextFile(`${w}/engines/hello.ts`, HELLO);
  await Deno.writeTextFile(
    `${w}/minion.yaml`,
    `engines_dirs: [${w}/engines]
engines:
  - hello: {greeting: from-minion}
  - reactor
reactor:
  - 'myco/minion/react': [${w}/react.sls]
`,
  );
  await Deno.writeTextFile(
    `${w}/react.sls`,
    "tell_master:\n  caller.event.send:\n    - args:\n      - tag: myco/reacted/minion\n      - data: {count: {{ data['n'] }}}\n",
  );
  await site.master();
  const bus = await site.masterBus();
  const minion = await site.minion("web1", ["--config", `${w}/minion.yaml`]);
  const e = await waitFor(bus, (e) => e.tag === "myco/hello/hello", "the minion engine's event");
  // Salt's wrapped _minion_event shape: {cmd, id, tag, data, pretag}.
  assert.equal(e.data.id, "web1");
  assert.equal(e.data.data.greeting, "from-minion");
  assert.equal(e.data.data.role, "minion");
  // The reactor engine on the minion bus: a caller reaction sends to the master.
  const { getEvent } = await import("../mod.ts");
  await using local = getEvent("minion", { sockDir: site.minionDir, opts: { id: "web1" } });
  let reacted: { tag: string; data: AnyRecord } | null = null;
  for (let i = 0; i < 20 && reacted === null; i++) {
    await local.fireEvent({ n: 7 }, "myco/minion/react");
    const deadline = Date.now() + 1000;
    while (reacted === null && Date.now() < deadline) {
      const ev = await bus.getEvent<AnyRecord>({ full: true, wait: 0.2 });
      if (ev?.tag === "myco/reacted/minion") reacted = ev;
    }
  }
  assert.ok(reacted, `the minion's reactor engine reacted:\n${minion.stderr.text}`);
  assert.equal(reacted.data.data.count, 7, JSON.stringify(reacted.data));
  assert.equal(await minion.stop(), 0, minion.stderr.text);
});

Deno.test("an unknown engine stops the master's start with an error naming the option", async () => {
  await using site = await makeSite();
  const config = `${site.workDir}/master.yaml`;
  await Deno.writeTextFile(config, "engines:\n  - nosuch\n");
  const { runCli } = await import("./harness.ts");
  const res = await runCli(["master", "--sock-dir", site.masterDir, "--config", config]);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /engines in .*master\.yaml: unknown engine 'nosuch'/);
});
