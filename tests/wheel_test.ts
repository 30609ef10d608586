/**
 * Wheel functions, the new runners and the execution functions API clients
 * call, against an in-process master and real minion processes.
 */
import assert from "node:assert/strict";
import { UsageError } from "../bus/errors.ts";
import { VERSION } from "../bus/version.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { callRunner, RunnerNotFoundError } from "../runners/registry.ts";
import { callWheel, runWheel, WHEEL_FUNCTIONS, WheelNotFoundError } from "../wheel/registry.ts";
import { sleep } from "./harness.ts";
import { startResourceSite } from "./resources_site.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("wheel, runners and execution functions with Salt's signatures and shapes", async (t) => {
  await using site = await startResourceSite();
  const { ctx } = site;
  await using client = new LocalClient({ sockDir: site.t.sockDir });

  await t.step("WHEEL_FUNCTIONS holds Salt's names", () => {
    assert.deepEqual(Object.keys(WHEEL_FUNCTIONS), [
      "config.values",
      "key.accept",
      "key.delete",
      "key.finger",
      "key.list_all",
      "key.reject",
      "minions.connected",
    ]);
  });

  await t.step("key.list_all, key.accept, key.finger, minions.connected", async () => {
    assert.deepEqual(await callWheel("key.list_all", [], {}, ctx), {
      minions: ["web1", "web2"],
      minions_pre: [],
      minions_rejected: [],
      minions_denied: [],
      local: [],
    });
    assert.deepEqual(await callWheel("key.accept", [], { match: "web*" }, ctx), {
      minions: ["web1", "web2"],
    });
    assert.deepEqual(await callWheel("key.accept", ["web2,nosuch"], {}, ctx), {
      minions: ["web2"],
    });
    assert.deepEqual(await callWheel("key.accept", [], { match: { minions_pre: ["web1"] } }, ctx), {
      minions: ["web1"],
    });
    assert.deepEqual(await callWheel("key.accept", [], { match: "nosuch" }, ctx), {});
    assert.deepEqual(await callWheel("key.finger", [], { match: "web1" }, ctx), {});
    assert.deepEqual(await callWheel("minions.connected", [], {}, ctx), ["web1", "web2"]);
  });

  await t.step(
    "key.reject / key.delete refuse known minions clearly; no match answers {}",
    async () => {
      assert.deepEqual(await callWheel("key.reject", [], { match: "web1" }, ctx), {
        minions: ["web1"],
      });
      await assert.rejects(
        callWheel("key.reject", [], { match: "web1", include_accepted: true }, ctx),
        (err: Error) =>
          err instanceof UsageError &&
          /cannot reject web1: saltbus has no minion key registry/.test(err.message),
      );
      await assert.rejects(
        callWheel("key.delete", [], { match: "web*" }, ctx),
        /cannot delete the key of web1, web2/,
      );
      assert.deepEqual(await callWheel("key.delete", [], { match: "nosuch" }, ctx), {});
    },
  );

  await t.step("config.values: the master's opts, external_auth passwords hidden", async () => {
    const opts = await callWheel("config.values", [], {}, ctx) as Any;
    assert.equal(opts.sock_dir, site.t.sockDir);
    const masterOpts = {
      ...ctx,
      opts: {
        ...ctx.opts,
        external_auth: { saltbus: { alice: { password: "pbkdf2-sha256$1$a$b", perms: [".*"] } } },
      },
    };
    const shown = await callWheel("config.values", [], {}, masterOpts as Any) as Any;
    assert.deepEqual(shown.external_auth, {
      saltbus: { alice: { password: "<hidden>", perms: [".*"] } },
    });
  });

  await t.step("unknown wheel functions and bad arguments", async () => {
    await assert.rejects(
      callWheel("key.gen", [], {}, ctx),
      (err: Error) =>
        err instanceof WheelNotFoundError && err.message === "'key.gen' is not available.",
    );
    await assert.rejects(
      callWheel("key.accept", [], {}, ctx),
      /missing 1 required positional argument: 'match'/,
    );
    const unknown = await runWheel("key.gen", [], {}, ctx, { user: "alice" });
    assert.match(unknown.tag, /^salt\/wheel\/\d{20}$/);
    assert.deepEqual(Object.keys(unknown.data), [
      "fun",
      "jid",
      "tag",
      "user",
      "_stamp",
      "return",
      "success",
    ]);
    assert.equal(unknown.data.return, "'key.gen' is not available.");
    assert.equal(unknown.data.success, false);
    assert.equal(unknown.data.fun, "wheel.key.gen");
    const ok = await runWheel("minions.connected", [], {}, ctx, { user: "alice" });
    assert.deepEqual([ok.data.return, ok.data.success, ok.data.user, ok.data.tag], [
      ["web1", "web2"],
      true,
      "alice",
      ok.tag,
    ]);
    const failed = await runWheel("key.delete", [], { match: "web1" }, ctx);
    assert.equal(failed.data.success, false);
    assert.match(
      String(failed.data.return),
      /^Exception occurred in wheel key.delete: UsageError: key.delete: cannot delete/,
    );
  });

  await t.step(
    "runners: test.arg, test.sleep, cache.grains, manage.versions, unknown",
    async () => {
      assert.deepEqual(await callRunner("test.arg", ["a", 1], { b: 2, __pub_x: 1 }, ctx), {
        args: ["a", 1],
        kwargs: { b: 2 },
      });
      assert.equal(await callRunner("test.sleep", [], { s_time: 0.05 }, ctx), true);
      await assert.rejects(callRunner("test.sleep", ["soon"], {}, ctx), /s_time must be a number/);
      const grains = await callRunner("cache.grains", [], { tgt: "web1" }, ctx) as Any;
      assert.deepEqual(Object.keys(grains), ["web1"]);
      assert.equal(grains.web1.role, "web");
      assert.deepEqual(
        Object.keys(
          await callRunner("cache.grains", ["role:web"], { tgt_type: "grain" }, ctx) as Any,
        ),
        ["web1", "web2"],
      );
      await assert.rejects(
        callRunner("cache.grains", ["*"], { tgt_type: "bogus" }, ctx),
        /tgt_type must be one of/,
      );
      assert.deepEqual(await callRunner("manage.versions", [], {}, ctx), {
        "Up to date": { web1: VERSION, web2: VERSION },
        Master: VERSION,
      });
      assert.deepEqual(await callRunner("manage.status", [], {}, ctx), {
        up: ["web1", "web2"],
        down: [],
      });
      await assert.rejects(
        callRunner("nosuch.fun", [], {}, ctx),
        (err: Error) =>
          err instanceof RunnerNotFoundError &&
          err.saltMessage === "'nosuch.fun' is not available.",
      );
    },
  );

  await t.step("execution functions: pillar.*, grains.*, test.*, sys.*, unknown", async () => {
    assert.deepEqual(await client.cmd("web1", "pillar.items"), {
      web1: { app: "shop-web1", db: { host: "db1" } },
    });
    assert.deepEqual(await client.cmd("web1", "pillar.get", ["db:host"]), { web1: "db1" });
    assert.deepEqual(await client.cmd("web1", "pillar.item", ["app", "nope"]), {
      web1: { app: "shop-web1", nope: "" },
    });
    assert.deepEqual(await client.cmd("web2", "grains.item", ["role"]), { web2: { role: "web" } });
    assert.deepEqual(await client.cmd("web2", "grains.get", ["role"]), { web2: "web" });
    assert.deepEqual(await client.cmd("*", "test.ping"), { web1: true, web2: true });
    assert.deepEqual(await client.cmd("web1", "test.version"), { web1: VERSION });
    const funs = (await client.cmd("web1", "sys.list_functions", ["saltutil"]) as Any).web1;
    assert.deepEqual(funs, [
      "saltutil.find_job",
      "saltutil.kill_job",
      "saltutil.running",
      "saltutil.signal_job",
      "saltutil.term_job",
    ]);
    const doc = (await client.cmd("web1", "sys.doc", ["pillar.items"]) as Any).web1;
    assert.match(doc["pillar.items"], /Returns the whole pillar/);
    assert.deepEqual(await client.cmd("web1", "nosuch.fun"), {
      web1: "'nosuch.fun' is not available.",
    });
  });

  await t.step("saltutil.running / find_job / kill_job see and end a running job", async () => {
    const slow = await client.publish("web1", "test.sleep", [30]);
    let running: Any[] = [];
    for (let i = 0; i < 100 && running.length === 0; i++) {
      running = (await client.cmd("web1", "saltutil.running") as Any).web1;
      if (running.length === 0) await sleep(50);
    }
    assert.equal(running.length, 1, "the sleeping job is listed, the asking one is not");
    assert.equal(running[0].jid, slow.jid);
    assert.equal(running[0].fun, "test.sleep");
    assert.deepEqual(running[0].arg, [30]);
    assert.equal(typeof running[0].pid, "number");
    assert.equal(
      ((await client.cmd("web1", "saltutil.find_job", [slow.jid])) as Any).web1.jid,
      slow.jid,
    );
    assert.deepEqual(await client.cmd("web1", "saltutil.find_job", ["20200101000000000000"]), {
      web1: {},
    });
    assert.deepEqual(await client.cmd("web1", "saltutil.kill_job", [slow.jid]), {
      web1: `Signal 9 sent to job ${slow.jid} at pid ${running[0].pid}`,
    });
    assert.deepEqual(await client.cmd("web1", "saltutil.running"), { web1: [] });
    assert.deepEqual(await client.cmd("web1", "saltutil.kill_job", [slow.jid]), { web1: "" });
    const returns = [];
    for await (const ret of client.returns(slow, 1)) returns.push(ret);
    assert.deepEqual(
      returns.map((r) => [r.id, r.missing]),
      [["web1", "no response"]],
      "a killed job sends no return",
    );
  });
});
