import assert from "node:assert/strict";
import { TargetError } from "../jobs/target.ts";
import { CommandNotFoundError } from "../modules/errors.ts";
import { captureLog, startTestBus } from "../tests/harness.ts";
import type { ProxyProgress } from "./run_proxy.ts";
import { runProxy } from "./run_proxy.ts";

const ROSTER = {
  sw1: { proxytype: "dummy", grains: { role: "edge" } },
  sw2: { proxytype: "dummy", grains: { role: "core" } },
  sw3: { proxytype: "dummy", unreachable: true },
};

Deno.test("runProxy resolves sorted results, the summary and the progress on the way", async () => {
  const seen: ProxyProgress[] = [];
  const run = await runProxy({
    tgt: "sw*",
    fun: "test.echo",
    args: ["hi"],
    roster: ROSTER,
    batchSize: 1,
    onResult: (_r, p) => seen.push(p),
    log: captureLog().log,
  });
  assert.match(run.jid, /^\d{20}$/);
  assert.deepEqual(run.results.map((r) => [r.id, r.success, r.status]), [
    ["sw1", true, "ok"],
    ["sw2", true, "ok"],
    ["sw3", false, "unreachable"],
  ]);
  assert.equal(run.results[0].return, "hi");
  assert.equal(run.eventsSent, false);
  assert.deepEqual(seen.map((p) => p.done), [1, 2, 3]);
  assert.equal(seen[2].failed, 1);
  assert.ok(seen.every((p) => p.total === 3));
  assert.deepEqual(
    { ...run.summary, user: "" },
    {
      tgt: "sw*",
      tgt_type: "glob",
      fun: "test.echo",
      fun_args: ["hi"],
      jid: run.jid,
      user: "",
      retcode: 1,
      matched_minions: ["sw1", "sw2", "sw3"],
      existing_minions: [],
      sproxy_minions: ["sw1", "sw2", "sw3"],
      timeout_minions: [],
      down_minions: [],
      unreachable_devices: ["sw3"],
      failed_minions: [],
    },
  );
});

Deno.test("runProxy targets the roster's static grains; nothing matched runs nothing", async () => {
  const edge = await runProxy({
    tgt: "role:edge",
    tgtType: "grain",
    fun: "test.ping",
    roster: ROSTER,
  });
  assert.deepEqual(edge.results.map((r) => r.id), ["sw1"]);
  const none = await runProxy({ tgt: "zz*", fun: "test.ping", roster: ROSTER, events: true });
  assert.deepEqual(none.results, []);
  assert.equal(none.eventsSent, false);
  assert.equal(none.summary.retcode, 0);
});

Deno.test("runProxy throws for an unknown function or a bad target, before running", async () => {
  await assert.rejects(
    runProxy({ tgt: "*", fun: "nope.nothing", roster: ROSTER }),
    (e: unknown) =>
      e instanceof CommandNotFoundError && e.message === "'nope.nothing' is not available.",
  );
  await assert.rejects(
    runProxy({ tgt: "sw1 and", tgtType: "compound", fun: "test.ping", roster: ROSTER }),
    TargetError,
  );
});

Deno.test("runProxy with events fires them on the bus with one JID and the given user", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.ok(await listener.connected(5));
  const firer = t.client({ listen: false });
  while (true) {
    await firer.fireEvent({}, "test/ready");
    if (await listener.getEvent({ tag: "test/ready", wait: 0.1 })) break;
  }
  const run = await runProxy({
    tgt: ["sw1", "sw2"],
    tgtType: "list",
    fun: "test.ping",
    roster: ROSTER,
    config: { sock_dir: t.sockDir },
    events: true,
    summary: true,
    user: "alice",
    jid: "20261123184500000000",
  });
  assert.equal(run.eventsSent, true);
  const tags: string[] = [];
  while (!tags.at(-1)?.endsWith("/summary")) {
    const event = await listener.getEvent({ full: true, wait: 5 });
    assert.ok(event, tags.join(", "));
    tags.push(event.tag);
    if (event.tag.endsWith("/new")) {
      assert.equal(event.data.user, "alice");
      assert.deepEqual(event.data.tgt, ["sw1", "sw2"]);
    }
  }
  const base = "proxy/runner/20261123184500000000";
  assert.deepEqual(tags.slice(0, 2), ["20261123184500000000", `${base}/new`]);
  assert.deepEqual(tags.slice(2, 4).sort(), [`${base}/ret/sw1`, `${base}/ret/sw2`]);
  assert.equal(tags[4], `${base}/summary`);
});
