/**
 * salt-api's resource routes over real HTTP, against an in-process master
 * and real minion processes: `/minions`, `/jobs`, `/keys`, `/stats`, their
 * envelopes and statuses.
 */
import assert from "node:assert/strict";
import { login } from "./api_harness.ts";
import { sleep } from "./harness.ts";
import { startResourceSite } from "./resources_site.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("resource routes: envelopes and statuses of /minions, /jobs, /keys, /stats", async (t) => {
  await using site = await startResourceSite();
  const { api } = site;
  const token = await login(api);
  const get = async (path: string, headers: Record<string, string> = { "x-auth-token": token }) => {
    const res = await fetch(`${api.url}${path.slice(1)}`, { headers });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      body: await res.json() as Any,
    };
  };

  await t.step("401 without a token on every route; 405 for a wrong method", async () => {
    for (
      const path of [
        "/minions",
        "/minions/web1",
        "/jobs",
        "/jobs/20240501123456789012",
        "/keys",
        "/keys/web1",
        "/stats",
      ]
    ) {
      const res = await get(path, {});
      assert.equal(res.status, 401, path);
      assert.deepEqual(res.body, { status: 401, return: "Please log in" });
    }
    const res = await fetch(`${api.url}jobs`, {
      method: "POST",
      headers: { "x-auth-token": token },
    });
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });

  await t.step(
    "GET /minions and /minions/<mid>: grains.items in {return: [{id: grains}]}",
    async () => {
      const all = await get("/minions");
      assert.equal(all.status, 200);
      assert.equal(all.type, "application/json");
      assert.equal(all.body.return.length, 1);
      assert.deepEqual(Object.keys(all.body.return[0]).sort(), ["web1", "web2"]);
      assert.equal(all.body.return[0].web1.id, "web1");
      assert.equal(all.body.return[0].web2.role, "web");
      const one = await get("/minions/web2");
      assert.deepEqual(Object.keys(one.body.return[0]), ["web2"]);
      assert.deepEqual(await get("/minions/nosuch"), {
        status: 200,
        type: "application/json",
        body: { return: [{}] },
      });
    },
  );

  let jid = "";
  await t.step("POST /minions: 202, local_async results and _links to /jobs/<jid>", async () => {
    const res = await fetch(`${api.url}minions`, {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/json" },
      body: JSON.stringify([{ tgt: "*", fun: "test.ping" }, { tgt: "nosuch", fun: "test.ping" }]),
    });
    assert.equal(res.status, 202);
    const body = await res.json() as Any;
    jid = body.return[0].jid;
    assert.match(jid, /^\d{20}$/);
    assert.deepEqual(body, {
      return: [{ jid, minions: ["web1", "web2"] }, {}],
      _links: { jobs: [{ href: `/jobs/${jid}` }] },
    });
    const form = await fetch(`${api.url}minions`, {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: "tgt=web1&fun=test.arg&arg=a&arg=b",
    });
    assert.equal(form.status, 202);
    assert.deepEqual((await form.json() as Any).return[0].minions, ["web1"]);
    for (
      const [type, text, status] of [["application/json", "{bad", 400], ["image/png", "x", 406], [
        "application/json",
        "[1]",
        400,
      ]] as const
    ) {
      const bad = await fetch(`${api.url}minions`, {
        method: "POST",
        headers: { "x-auth-token": token, "content-type": type },
        body: text,
      });
      assert.equal(bad.status, status, `${type} ${text}`);
      await bad.body?.cancel();
    }
  });

  await t.step("GET /jobs/<jid>: info (jobs.list_job) and return {minion: return}", async () => {
    let res = await get(`/jobs/${jid}`);
    for (let i = 0; i < 100 && Object.keys(res.body.return[0]).length < 2; i++) {
      await sleep(100);
      res = await get(`/jobs/${jid}`);
    }
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.return, [{ web1: true, web2: true }]);
    const info = res.body.info[0];
    assert.equal(info.jid, jid);
    assert.equal(info.Function, "test.ping");
    assert.equal(info.Target, "*");
    assert.deepEqual(info.Minions, ["web1", "web2"]);
    assert.match(info.StartTime, /^\d{4}, \w{3} \d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.deepEqual(info.Result.web1, { return: true, retcode: 0, success: true });
    const unknown = await get("/jobs/20200101000000000000");
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.info[0].Error, "Cannot contact returner or no job with this jid");
    assert.deepEqual(unknown.body.return, [{}]);
    const bad = await get("/jobs/not-a-jid");
    assert.equal(bad.status, 400);
    assert.match(bad.body.return, /not a job id/);
  });

  await t.step(
    "GET /jobs: {return: [{jid: record}]} from the job cache, without Minions",
    async () => {
      const res = await fetch(`${api.url}jobs`, { headers: { "x-auth-token": token } });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.startsWith('{"return": [{"'), text.slice(0, 40));
      const body = JSON.parse(text);
      assert.equal(body.return.length, 1);
      const record = body.return[0][jid];
      assert.deepEqual(Object.keys(record), [
        "Function",
        "Arguments",
        "Target",
        "Target-type",
        "User",
        "StartTime",
      ]);
      assert.equal(record.Function, "test.ping");
      assert.equal(record.User, "alice");
    },
  );

  await t.step(
    "GET /keys and /keys/<mid>: wheel key.list_all / key.finger in {return: {…}}",
    async () => {
      assert.deepEqual((await get("/keys")).body, {
        return: {
          minions: ["web1", "web2"],
          minions_pre: [],
          minions_rejected: [],
          minions_denied: [],
          local: [],
        },
      });
      assert.deepEqual((await get("/keys/web1")).body, { return: {} });
    },
  );

  await t.step("GET /stats: {} without collect_stats", async () => {
    assert.deepEqual((await get("/stats")).body, {});
  });

  await t.step("an unknown route stays 404", async () => {
    assert.equal((await get("/nosuch")).status, 404);
  });
});

Deno.test("GET /stats with collect_stats and stats_disable_auth: figures, no token needed", async () => {
  await using site = await startResourceSite({
    api: { port: 0, collect_stats: true, stats_disable_auth: true },
  });
  const res = await fetch(`${site.api.url}stats`);
  assert.equal(res.status, 200);
  const body = await res.json() as Any;
  assert.equal(typeof body["saltbus API"].Uptime, "number");
  assert.equal(typeof body["saltbus API"]["Current Connections"], "number");
});
