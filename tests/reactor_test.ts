/**
 * The reactor in a real master process with a real minion: a reaction to
 * `'*' test.ping` returns, the loop guard, bad reaction files and an unknown
 * reaction type (each logged and fired as `saltbus/reactor/error/…` while
 * the master carries on), a TypeScript reaction module, and
 * `reactor.list/add/delete` through `cli.ts run`.
 */
import assert from "node:assert/strict";
import type { EventClient } from "../bus/event_client.ts";
import { type Daemon, makeSite, startDaemon } from "./daemons.ts";
import { runCli, sleep } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

const RET_SLS = `{% if data.get('fun') == 'test.ping' and tag.startswith('salt/job/') %}
ping_again:
  local.test.ping:
    - tgt: '*'
announce:
  runner.event.send:
    - args:
      - tag: myco/reacted
      - data:
          jid: "{{ data['jid'] }}"
          id: {{ data['id'] }}
          ret: {{ data['return'] | json }}
{% endif %}
`;

const TS_REACTION = `export default (tag: string, data: Record<string, unknown>) => ({
  ts_announce: {
    "runner.event.send": [{ args: [{ tag: "myco/ts-reacted" }, { data: { from: tag, n: data.n } }] }],
  },
});
`;

/** Events until `pred` holds for one; returns it and every event seen before it. */
async function waitFor(
  listener: EventClient,
  pred: (e: { tag: string; data: AnyRecord }) => boolean,
  seen: { tag: string; data: AnyRecord }[] = [],
  what = "the event",
): Promise<{ tag: string; data: AnyRecord }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const event = await listener.getEvent<AnyRecord>({ full: true, wait: 2 });
    if (!event) continue;
    seen.push(event);
    if (pred(event)) return event;
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("the reactor reacts to job returns, guards loops, reports bad reactions and is managed by reactor.* runners", async (t) => {
  await using site = await makeSite();
  const w = site.workDir;
  await Deno.writeTextFile(`${w}/ret.sls`, RET_SLS);
  await Deno.writeTextFile(
    `${w}/bad_jinja.sls`,
    "x:\n  local.test.ping:\n    - tgt: {{ data[ }}\n",
  );
  await Deno.writeTextFile(`${w}/bad_yaml.sls`, "x:\n  local.test.ping:\n    - tgt: [unclosed\n");
  await Deno.writeTextFile(`${w}/bad_type.sls`, "typo:\n  locl.cmd.run:\n    - tgt: '*'\n");
  await Deno.writeTextFile(`${w}/react.ts`, TS_REACTION);
  await Deno.writeTextFile(
    `${w}/added.sls`,
    "added:\n  runner.event.send:\n    - args:\n      - tag: myco/added-reacted\n",
  );
  const config = `${w}/master.yaml`;
  await Deno.writeTextFile(
    config,
    `reactor:
  - 'salt/job/*/ret/*':
    - ${w}/ret.sls
  - 'myco/bad/jinja': [${w}/bad_jinja.sls]
  - 'myco/bad/yaml': [${w}/bad_yaml.sls]
  - 'myco/bad/type': [${w}/bad_type.sls]
  - 'myco/ts/*': [${w}/react.ts]
`,
  );
  const master: Daemon = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  try {
    const minion = await site.minion("web1");
    await minion.stderr.waitFor("connected to the master");
    const listener = await site.masterBus();
    const seen: { tag: string; data: AnyRecord }[] = [];

    await t.step("a reactor on salt/job/*/ret/* reacts to '*' test.ping", async () => {
      const job = await runCli(["*", "test.ping", "--sock-dir", site.masterDir]);
      assert.equal(job.code, 0, job.stderr);
      const reacted = await waitFor(
        listener,
        (e) => e.tag === "myco/reacted",
        seen,
        "myco/reacted",
      );
      assert.equal(reacted.data.id, "web1");
      assert.equal(reacted.data.ret, true);
      const userJob = seen.find((e) =>
        /^salt\/job\/\d{20}\/new$/.test(e.tag) && e.data.user !== "Reactor"
      );
      assert.ok(userJob, "the user's job was published");
      assert.equal(reacted.data.jid, userJob.data.jid);
    });

    await t.step("the loop guard stops a reaction reacting to its own job's returns", async () => {
      // The reaction's own job (user Reactor) returns once; 'announce' reacts to that
      // return, 'ping_again' does not publish again.
      await waitFor(
        listener,
        (e) =>
          e.tag === "myco/reacted" &&
          seen.some((j) => j.tag === `salt/job/${e.data.jid}/new` && j.data.user === "Reactor"),
        seen,
        "the reaction to the reactor's own job",
      );
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        const event = await listener.getEvent<AnyRecord>({ full: true, wait: 0.5 });
        if (event) seen.push(event);
      }
      const reactorJobs = seen.filter((e) =>
        /^salt\/job\/\d{20}\/new$/.test(e.tag) && e.data.user === "Reactor"
      );
      assert.equal(reactorJobs.length, 1, "one job published by the reactor, not a loop");
      assert.equal(seen.filter((e) => e.tag === "myco/reacted").length, 2);
    });

    const failure = async (tag: string, kind: string, logged: string | RegExp) => {
      await listener.fireEvent({ n: 1 }, tag);
      const event = await waitFor(
        listener,
        (e) => e.tag === `saltbus/reactor/error/${kind}` && e.data.event_tag === tag,
        [],
        `the error event for ${tag}`,
      );
      await master.stderr.waitFor(logged, 10_000);
      return event;
    };

    await t.step("a Jinja error is logged and fired as saltbus/reactor/error/render", async () => {
      const event = await failure(
        "myco/bad/jinja",
        "render",
        `Failed to render "${w}/bad_jinja.sls": Jinja error`,
      );
      assert.equal(event.data.file, `${w}/bad_jinja.sls`);
      assert.equal(event.data.stage, "jinja");
    });

    await t.step("a YAML error is logged and fired as saltbus/reactor/error/render", async () => {
      const event = await failure(
        "myco/bad/yaml",
        "render",
        `Failed to render "${w}/bad_yaml.sls": YAML error`,
      );
      assert.equal(event.data.stage, "yaml");
    });

    await t.step(
      "an unknown reaction type is logged and fired as saltbus/reactor/error/dispatch",
      async () => {
        const event = await failure(
          "myco/bad/type",
          "dispatch",
          "ReactWrap is missing a wrapper function for 'locl'",
        );
        assert.equal(event.data.type, "locl");
        assert.equal(event.data.fun, "cmd.run");
      },
    );

    await t.step(
      "after those failures the master still reacts, here through a TypeScript module",
      async () => {
        await listener.fireEvent({ n: 7 }, "myco/ts/one");
        const event = await waitFor(
          listener,
          (e) => e.tag === "myco/ts-reacted",
          [],
          "myco/ts-reacted",
        );
        assert.equal(event.data.from, "myco/ts/one");
        assert.equal(event.data.n, 7);
      },
    );

    await t.step(
      "reactor.list, reactor.add and reactor.delete change the running reactor",
      async () => {
        const run = (...args: string[]) => runCli(["run", ...args, "--sock-dir", site.masterDir]);
        const listed = await run("reactor.list");
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /salt\/job\/\*\/ret\/\*/);
        assert.match(listed.stdout, /ret\.sls/);

        const added = await run("reactor.add", "myco/added", `reactors=${w}/added.sls`);
        assert.equal(added.code, 0, added.stderr);
        assert.match(added.stdout, /Reactor added\./);
        const again = await run("reactor.add", "myco/added", `reactors=${w}/added.sls`);
        assert.match(again.stdout, /Reactor already exists\./);
        assert.match((await run("reactor.list")).stdout, /myco\/added/);

        await listener.fireEvent({}, "myco/added");
        await waitFor(listener, (e) => e.tag === "myco/added-reacted", [], "myco/added-reacted");

        const deleted = await run("reactor.delete", "myco/added");
        assert.match(deleted.stdout, /Reactor deleted\./);
        const gone = await run("reactor.delete", "myco/added");
        assert.match(gone.stdout, /Reactor does not exists\./);
        assert.doesNotMatch((await run("reactor.list")).stdout, /myco\/added/);
      },
    );
  } finally {
    await master.stop();
  }
});

Deno.test("reactor.list says the reactor system is not running on a master without a reactor", async () => {
  await using site = await makeSite();
  await site.master();
  const listed = await runCli(["run", "reactor.list", "--sock-dir", site.masterDir]);
  assert.notEqual(listed.code, 0);
  assert.match(listed.stderr, /Reactor system is not running\./);
  await sleep(0);
});
