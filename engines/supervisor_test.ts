import assert from "node:assert/strict";
import { startBus } from "../broker/start_bus.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger } from "../bus/log.ts";
import { startEngines } from "./start_engines.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

/** Every event the test's listener received. */
const SEEN: { tag: string; data: AnyRecord }[] = [];

async function waitFor(
  listener: EventClient,
  pred: (e: { tag: string; data: AnyRecord }) => boolean,
  what: string,
): Promise<{ tag: string; data: AnyRecord }> {
  const earlier = SEEN.find(pred);
  if (earlier) return earlier;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const event = await listener.getEvent<AnyRecord>({ full: true, wait: 1 });
    if (event) SEEN.push(event);
    if (event && pred(event)) return event;
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function processes(): Promise<string> {
  const out = await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("engines: script fires JSON lines, a crashing Worker and a returning start() are restarted", async () => {
  const dir = await Deno.makeTempDir();
  await using bus = await startBus({ sockDir: `${dir}/bus` });
  await Deno.mkdir(`${dir}/engines`);
  await Deno.writeTextFile(
    `${dir}/engines/crash.ts`,
    `export function start() { setTimeout(() => { throw new Error("crash in a timer"); }, 10); return new Promise(() => {}); }\n`,
  );
  await Deno.writeTextFile(`${dir}/engines/quits.ts`, `export function start() {}\n`);
  await Deno.writeTextFile(
    `${dir}/emit.sh`,
    `echo '{"tag": "myco/script/a", "data": {"x": 1}}'\necho 'not json'\necho '{"tag": "myco/script/b"}'\n`,
  );
  await Deno.writeTextFile(
    `${dir}/sleeper.sh`,
    `echo '{"tag": "myco/sleeper", "data": {}}'\nexec sleep 37.123\n`,
  );
  const listener = bus.getEvent();
  await listener.connected(5);
  const events = bus.getEvent({ listen: false });
  const lines: string[] = [];
  const logger = createLogger("debug", (lvl, message) => lines.push(`${lvl}: ${message}`));
  const engines = await startEngines({
    config: {
      ...bus.config,
      id: "m1_master",
      log_level: "debug",
      engine_restart_delay: 0.2,
      engines_dirs: [`${dir}/engines`],
      engines: [
        { script: { cmd: `sh ${dir}/emit.sh`, interval: 0.2, onchange: true } },
        { sleeper: { engine_module: "script", cmd: `sh ${dir}/sleeper.sh` } },
        "crash",
        "quits",
        "test",
      ],
    },
    role: "master",
    log: logger,
    events,
  });
  try {
    const a = await waitFor(listener, (e) => e.tag === "myco/script/a", "the script event");
    assert.deepEqual({ ...a.data, _stamp: undefined }, {
      x: 1,
      id: "m1_master",
      _stamp: undefined,
    });
    const b = await waitFor(listener, (e) => e.tag === "myco/script/b", "the data-less event");
    assert.deepEqual(Object.keys(b.data).filter((k) => k !== "_stamp"), []);
    const crash = await waitFor(
      listener,
      (e) => e.tag === "saltbus/engine/crash/error",
      "the crash event",
    );
    assert.equal(crash.data.reason, "crashed");
    assert.match(crash.data.error, /crash in a timer/);
    const quits = await waitFor(
      listener,
      (e) => e.tag === "saltbus/engine/quits/error" && e.data.failures === 2,
      "the second quits event",
    );
    assert.equal(quits.data.reason, "returned");
    assert.equal(quits.data.restart_in_seconds, 0.4);
    // onchange: the script runs every 0.2 s, its unchanged event fires no more.
    const deadline = Date.now() + 800;
    let again = 0;
    while (Date.now() < deadline) {
      const e = await listener.getEvent<AnyRecord>({ full: true, wait: 0.2 });
      if (e) SEEN.push(e);
      if (e?.tag === "myco/script/a") again++;
    }
    assert.equal(again, 0);
    // The test engine logs every event as JSON at debug.
    await events.fireEvent({ probe: true }, "myco/probe");
    const until = Date.now() + 5000;
    while (!lines.some((l) => l.includes('"tag":"myco/probe"')) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(lines.some((l) => l.startsWith("debug: ") && l.includes('"tag":"myco/probe"')));
    assert.ok(lines.some((l) => l.includes("Engine 'quits' stopped: its start() returned")));
    await waitFor(listener, (e) => e.tag === "myco/sleeper", "the sleeper's event");
    assert.match(await processes(), /sleep 37\.123/);
    await engines?.close();
    assert.doesNotMatch(await processes(), /sleep 37\.123/, "shutdown killed the script's child");
  } finally {
    await engines?.close();
    await listener.close();
    await events.close();
    await Deno.remove(dir, { recursive: true });
  }
});
