import assert from "node:assert/strict";
import { startBus } from "../broker/start_bus.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger } from "../bus/log.ts";
import { inProcessServices } from "../link/node_services.ts";
import { Reactor, type ReactorPublishRequest } from "./reactor.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

const SEND = (tag: string) =>
  `send:\n  runner.event.send:\n    - args:\n      - tag: ${tag}\n      - data: {from: "{{ tag }}"}\n`;

/** A real bus in a temp dir and a reactor on it with `reactor` as its map. */
async function withReactor(
  reactor: (dir: string) => unknown,
  files: Record<string, string>,
  body: (
    r: Reactor,
    listener: EventClient,
    published: ReactorPublishRequest[],
    lines: string[],
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const bus = await startBus({ sockDir: `${dir}/sock` });
  const lines: string[] = [];
  const log = createLogger("debug", (level, message) => lines.push(`${level}: ${message}`));
  const events = bus.getEvent({ listen: false });
  const listener = bus.getEvent();
  const published: ReactorPublishRequest[] = [];
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const r = new Reactor({
    config: { ...bus.config, reactor: reactor(dir) },
    log,
    listener: bus.getEvent(),
    events,
    services: inProcessServices(bus),
    publish: (request) => {
      published.push(request);
      return Promise.resolve({ jid: "20261201000000000001" });
    },
  });
  try {
    await r.start();
    await listener.connected();
    await body(r, listener, published, lines);
  } finally {
    await r.close();
    await listener.close();
    await events.close();
    await bus.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function next(listener: EventClient, tag: string, wait = 10): Promise<AnyRecord | null> {
  return await listener.getEvent<AnyRecord>({ tag, wait }) as AnyRecord | null;
}

Deno.test("Reactor skips events with user Reactor unless the entry opts in with react_to_reactor", async () => {
  await withReactor(
    (dir) => [
      { "myco/start": [`${dir}/start.sls`] },
      { "salt/run/*/ret": { files: [`${dir}/done.sls`], react_to_reactor: true } },
      { "salt/run/*/new": [`${dir}/never.sls`] },
    ],
    {
      "start.sls": SEND("myco/started"),
      "done.sls": SEND("myco/done"),
      "never.sls": SEND("myco/never"),
    },
    async (_r, listener) => {
      await listener.fireEvent({}, "myco/start");
      assert.ok(await next(listener, "myco/started"));
      const done = await next(listener, "myco/done");
      assert.ok(done, "the opted-in entry reacted to the runner reaction's ret");
      assert.match(String(done.from), /^salt\/run\/\d{20}\/ret$/);
      // done.sls's own runner ret does not trigger it again (loop guard), and
      // never.sls does not see salt/run/*/new (user Reactor, no opt-in).
      assert.equal(await next(listener, "myco/done", 1.5), null);
      assert.equal(await next(listener, "myco/never", 0.5), null);
    },
  );
});

Deno.test("Reactor publishes local reactions as user Reactor with Salt's argument list", async () => {
  await withReactor(
    (dir) => [{ "myco/go": `${dir}/local.sls` }],
    {
      "local.sls": "run_it:\n  local.test.arg:\n    - tgt: 'web*'\n    - tgt_type: glob\n" +
        "    - arg: [a]\n    - kwarg: {b: 2}\n",
    },
    async (_r, listener, published) => {
      await listener.fireEvent({}, "myco/go");
      const deadline = Date.now() + 10_000;
      while (published.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(published, [{
        tgt: "web*",
        tgt_type: "glob",
        fun: "test.arg",
        arg: ["a", { b: 2, __kwarg__: true }],
        user: "Reactor",
      }]);
    },
  );
});

Deno.test("Reactor runs wheel reactions with salt/wheel/<jid> events, and reports an unknown one", async () => {
  await withReactor(
    (dir) => [{ "myco/wheel": `${dir}/wheel.sls` }, { "myco/nowheel": `${dir}/nowheel.sls` }],
    {
      "wheel.sls": "show_config:\n  wheel.config.values: []\n",
      "nowheel.sls": "remove_key:\n  wheel.nosuch.fun:\n    - match: foo\n",
    },
    async (_r, listener, _published, lines) => {
      await listener.fireEvent({}, "myco/wheel");
      const ret = await listener.getEvent<AnyRecord>({
        tag: "salt/wheel/*/ret",
        matchType: "fnmatch",
        wait: 10,
        full: true,
      });
      assert.ok(ret, "salt/wheel/<jid>/ret");
      assert.equal(ret.data.fun, "wheel.config.values");
      assert.equal(ret.data.user, "Reactor");
      assert.equal(ret.data.success, true);
      assert.equal(typeof ret.data.return, "object");

      await listener.fireEvent({}, "myco/nowheel");
      const error = await next(listener, "saltbus/reactor/error/dispatch");
      assert.ok(error);
      const message = "Reactor 'remove_key' failed to execute wheel 'nosuch.fun': " +
        "function not available";
      assert.equal(error.message, message);
      assert.ok(lines.includes(`error: ${message}`), lines.join("\n"));
    },
  );
});

Deno.test("Reactor reacts to nothing while it is not the leader", async () => {
  await withReactor(
    (dir) => [{ "myco/start": `${dir}/start.sls` }],
    { "start.sls": SEND("myco/started") },
    async (r, listener) => {
      r.leader = false;
      await listener.fireEvent({}, "myco/start");
      assert.equal(await next(listener, "myco/started", 1), null);
      r.leader = true;
      await listener.fireEvent({}, "myco/start");
      assert.ok(await next(listener, "myco/started"));
    },
  );
});

Deno.test("Reactor runs runner reactions with salt/run/<jid>/new and /ret events as user Reactor", async () => {
  await withReactor(
    (dir) => [{ "myco/start": `${dir}/start.sls` }],
    { "start.sls": SEND("myco/started") },
    async (_r, listener) => {
      await listener.fireEvent({}, "myco/start");
      const started = await listener.getEvent<AnyRecord>({
        tag: "salt/run/*/new",
        matchType: "fnmatch",
        full: true,
        wait: 10,
      }) as { tag: string; data: AnyRecord } | null;
      assert.ok(started);
      const jid = started.data.jid;
      assert.equal(started.tag, `salt/run/${jid}/new`);
      assert.equal(started.data.fun, "runner.event.send");
      assert.equal(started.data.user, "Reactor");
      assert.deepEqual(started.data.fun_args, [{
        tag: "myco/started",
        data: { from: "myco/start" },
      }]);
      const ret = await next(listener, `salt/run/${jid}/ret`);
      assert.ok(ret);
      assert.equal(ret.success, true);
      assert.equal(ret.return, true);
      assert.equal(ret.user, "Reactor");
    },
  );
});

Deno.test("Reactor runs caller reactions in-process and reports a failing one", async () => {
  await withReactor(
    (dir) => [{ "myco/call": `${dir}/call.sls` }],
    { "call.sls": "nope:\n  caller.test.no_such_function:\n    - args: [{a: 1}]\n" },
    async (_r, listener) => {
      await listener.fireEvent({}, "myco/call");
      const error = await next(listener, "saltbus/reactor/error/dispatch");
      assert.ok(error);
      assert.equal(error.type, "caller");
      assert.match(
        String(error.message),
        /^Reactor 'nope' failed to execute caller 'test.no_such_function': /,
      );
    },
  );
});
