/**
 * salt-api's lowstate routes over real HTTP against an in-process master and
 * real minion processes: `POST /` (JSON, YAML, form, with curl), `/run`,
 * `/token`, `GET /`, the clients' result shapes, their errors and statuses,
 * and Debian's real salt-pepper 0.5.5 against it.
 */
import assert from "node:assert/strict";
import { login, PASSWORD, startTestApi } from "./api_harness.ts";
import { startResourceSite } from "./resources_site.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const JID = /^\d{20}$/;

async function run(cmd: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("timeout", {
    args: ["120", ...cmd],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** curl -s, printing the body then the status on its own last line. */
async function curl(args: string[]) {
  const res = await run(["curl", "-sS", "-w", "\n%{http_code}", ...args]);
  assert.equal(res.code, 0, res.stderr);
  const i = res.stdout.lastIndexOf("\n");
  return { status: Number(res.stdout.slice(i + 1)), body: JSON.parse(res.stdout.slice(0, i)) };
}

Deno.test("lowstate: POST /, /run, /token, GET / and salt-pepper", async (t) => {
  await using site = await startResourceSite();
  const { api } = site;
  const token = await login(api);
  const post = async (path: string, body: string, type = "application/json", auth = true) => {
    const res = await fetch(`${api.url}${path.slice(1)}`, {
      method: "POST",
      headers: { "content-type": type, ...(auth ? { "x-auth-token": token } : {}) },
      body,
    });
    return { status: res.status, body: await res.json() as Any };
  };

  await t.step("GET / lists the enabled clients (all by default)", async () => {
    const res = await curl([api.url]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      return: "Welcome",
      clients: [
        "local",
        "local_async",
        "local_batch",
        "local_subset",
        "runner",
        "runner_async",
        "wheel",
        "wheel_async",
      ],
    });
  });

  await t.step("curl JSON, YAML and form bodies; chunks run in order", async () => {
    const json = await curl([
      "-H",
      `X-Auth-Token: ${token}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '[{"client": "local", "tgt": "*", "fun": "test.ping"}, {"client": "local", "tgt": "web1", "fun": "test.arg", "arg": ["a", "b=2"]}]',
      api.url,
    ]);
    assert.equal(json.status, 200);
    assert.deepEqual(json.body.return[0], { web1: true, web2: true });
    assert.deepEqual(json.body.return[1].web1.args, ["a"]);
    assert.equal(json.body.return[1].web1.kwargs.b, 2);
    assert.equal(json.body.return.length, 2);
    const yaml = await curl([
      "-H",
      `X-Auth-Token: ${token}`,
      "-H",
      "Content-Type: application/x-yaml",
      "--data-binary",
      "- client: local\n  tgt: web2\n  fun: test.ping\n  full_return: true\n",
      api.url,
    ]);
    assert.equal(yaml.status, 200);
    assert.equal(yaml.body.return[0].web2.ret, true);
    assert.equal(yaml.body.return[0].web2.retcode, 0);
    assert.match(yaml.body.return[0].web2.jid, JID);
    const form = await curl([
      "-H",
      `X-Auth-Token: ${token}`,
      "-d",
      "client=local",
      "-d",
      "tgt=web1",
      "-d",
      "fun=test.ping",
      api.url,
    ]);
    assert.deepEqual(form.body, { return: [{ web1: true }] });
  });

  await t.step("client shapes: local_async, local_batch, local_subset, expr_form", async () => {
    const res = await post(
      "/",
      JSON.stringify([
        { client: "local_async", tgt: "*", fun: "test.ping" },
        { client: "local_async", tgt: "nobody*", fun: "test.ping" },
        { client: "local_batch", tgt: "*", fun: "test.ping", batch: "1" },
        { client: "local_subset", tgt: "*", fun: "test.ping", subset: 1 },
        { client: "local", tgt: "web1,web2", expr_form: "list", fun: "test.ping" },
      ]),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [async, none, b1, b2, subset, list] = res.body.return;
    assert.match(async.jid, JID);
    assert.deepEqual(async.minions.sort(), ["web1", "web2"]);
    assert.deepEqual(none, {});
    assert.deepEqual([b1, b2], [{ web1: true }, { web2: true }]);
    assert.equal(Object.keys(subset).length, 1);
    assert.deepEqual(list, { web1: true, web2: true });
  });

  await t.step(
    "runner, runner_async, wheel, wheel_async; big-integer jid stays exact",
    async () => {
      const res = await post(
        "/",
        '[{"client": "runner", "fun": "test.arg", "arg": ["x", "k=v"], "full_return": true},' +
          '{"client": "runner", "fun": "test.arg", "jid": 20240501123456789012},' +
          '{"client": "runner", "fun": "nope.nothing"},' +
          '{"client": "runner_async", "fun": "test.arg"},' +
          '{"client": "wheel", "fun": "key.list_all"},' +
          '{"client": "wheel_async", "fun": "key.list_all"}]',
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [full, lookup, missing, rasync, wheel, wasync] = res.body.return;
      assert.match(full.tag, /^salt\/run\/\d{20}\/ret$/);
      assert.equal(full.data.fun, "runner.test.arg");
      assert.equal(full.data.user, "alice");
      assert.equal(full.data.success, true);
      assert.deepEqual(full.data.return.args, ["x"]);
      assert.equal(full.data.return.kwargs.k, "v");
      assert.equal(lookup.kwargs.jid, "20240501123456789012");
      assert.equal(missing, "'nope.nothing' is not available.");
      assert.match(rasync.jid, JID);
      assert.equal(rasync.tag, `salt/run/${rasync.jid}`);
      assert.match(wheel.tag, /^salt\/wheel\/\d{20}$/);
      assert.equal(wheel.data.fun, "wheel.key.list_all");
      assert.equal(wheel.data.success, true);
      assert.deepEqual(wheel.data.return.minions.sort(), ["web1", "web2"]);
      assert.equal(wasync.tag, `salt/wheel/${wasync.jid}`);
    },
  );

  await t.step("bad inputs: statuses and JSON error bodies", async () => {
    assert.deepEqual(await post("/", "[{", "application/json"), {
      status: 400,
      body: { status: 400, return: "Invalid JSON document" },
    });
    assert.deepEqual(await post("/", "a: [", "application/x-yaml"), {
      status: 400,
      body: { status: 400, return: "Invalid YAML document" },
    });
    assert.equal((await post("/", "<x/>", "application/xml")).status, 406);
    assert.deepEqual(await post("/", '{"client": "foo", "fun": "test.ping"}'), {
      status: 400,
      body: { status: 400, return: "Invalid client specified: 'foo'" },
    });
    assert.deepEqual(await post("/", '{"client": "local", "fun": "test.ping"}', undefined, false), {
      status: 401,
      body: { status: 401, return: "Please log in" },
    });
    assert.equal(
      (await post("/", '{"client": "local", "tgt": "*", "fun": "test.ping", "token": "zz"}'))
        .status,
      401,
    );
    const many = JSON.stringify(
      Array.from({ length: 1001 }, () => ({ client: "runner", fun: "x" })),
    );
    const big = await post("/", many);
    assert.equal(big.status, 413);
    assert.match(big.body.return, /too many lowstate chunks: 1001/);
  });

  await t.step(
    "a disabled client: Salt 3006's text, 400; GET / lists only the enabled",
    async () => {
      await using other = await startTestApi(site.t, { netapi_enable_clients: ["local"] });
      const tok = await login(other);
      const res = await fetch(`${other.url}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-auth-token": tok },
        body: '{"client": "wheel", "fun": "key.list_all"}',
      });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), {
        status: 400,
        return:
          "Client disabled: 'wheel'. Add to 'netapi_enable_clients' master config option to enable.",
      });
      const root = await (await fetch(other.url)).json();
      assert.deepEqual(root.clients, ["local"]);
    },
  );

  await t.step(
    "POST /token gives a Salt token for /run; a session token is refused there",
    async () => {
      const made = await post(
        "/token",
        JSON.stringify({ username: "alice", password: PASSWORD, eauth: "saltbus" }),
        undefined,
        false,
      );
      assert.equal(made.status, 200);
      assert.ok(Array.isArray(made.body));
      assert.deepEqual(Object.keys(made.body[0]).sort(), [
        "eauth",
        "expire",
        "name",
        "start",
        "token",
      ]);
      assert.equal(made.body[0].name, "alice");
      const salt = made.body[0].token;
      const ok = await post(
        "/run",
        JSON.stringify([{ client: "local", tgt: "web1", fun: "test.ping", token: salt }]),
        undefined,
        false,
      );
      assert.deepEqual(ok, { status: 200, body: { return: [{ web1: true }] } });
      const creds = await post(
        "/run",
        JSON.stringify({
          client: "runner",
          fun: "test.arg",
          username: "alice",
          password: PASSWORD,
          eauth: "saltbus",
        }),
        undefined,
        false,
      );
      assert.equal(creds.status, 200);
      assert.deepEqual(creds.body.return[0].args, []);
      const session = await post(
        "/run",
        JSON.stringify({ client: "local", tgt: "*", fun: "test.ping", token }),
        undefined,
        false,
      );
      assert.equal(session.status, 401);
      const none = await post(
        "/run",
        '{"client": "local", "tgt": "*", "fun": "test.ping"}',
        undefined,
        false,
      );
      assert.deepEqual(none.body, { status: 401, return: "No authentication credentials given" });
      const wrong = await post(
        "/run",
        JSON.stringify({
          client: "local",
          tgt: "*",
          fun: "test.ping",
          username: "alice",
          password: "no",
          eauth: "saltbus",
        }),
        undefined,
        false,
      );
      assert.equal(wrong.status, 401);
      const missing = await post("/token", '{"username": "alice"}', undefined, false);
      assert.deepEqual(missing.body, {
        status: 400,
        return: 'Require "username", "password", and "eauth" params',
      });
    },
  );

  await t.step("salt-pepper 0.5.5: local, runner, wheel, local_async, -r", async () => {
    const home = await Deno.makeTempDir({ prefix: "saltbus-pepper-" });
    try {
      const env = {
        HOME: home,
        PATH: "/usr/bin:/bin",
        SALTAPI_URL: api.url,
        SALTAPI_USER: "alice",
        SALTAPI_PASS: PASSWORD,
        SALTAPI_EAUTH: "saltbus",
      };
      const pepper = async (...args: string[]) => {
        const res = await run(["/usr/bin/salt-pepper", ...args], env);
        assert.equal(res.code, 0, `${args.join(" ")}: ${res.stdout}${res.stderr}`);
        return JSON.parse(res.stdout);
      };
      // pepper 0.5.5 sends expr_form and no full_return: the plain shapes.
      const ping = await pepper("*", "test.ping");
      assert.deepEqual(ping, { return: [{ web1: true, web2: true }] });
      const jobs = await pepper("--client", "runner", "jobs.list_jobs");
      const jids = Object.keys(jobs.return[0]);
      assert.ok(jids.length > 0 && jids.every((j) => JID.test(j)));
      const lookup = await pepper("--client", "runner", "jobs.lookup_jid", `jid=${jids[0]}`);
      assert.equal(typeof lookup.return[0], "object");
      const keys = await pepper("--client", "wheel", "key.list_all");
      assert.deepEqual(keys.return[0].data.return.minions.sort(), ["web1", "web2"]);
      const async = await pepper("--client", "local_async", "*", "test.ping");
      assert.match(async.return[0].jid, JID);
      const viaRun = await pepper("-r", "web1", "test.ping");
      assert.deepEqual(viaRun, { return: [{ web1: true }] });
      // The README's ~/.pepperrc, without the environment variables.
      await Deno.writeTextFile(
        `${home}/.pepperrc`,
        `[main]\nSALTAPI_URL=${api.url}\nSALTAPI_USER=alice\nSALTAPI_PASS=${PASSWORD}\nSALTAPI_EAUTH=saltbus\n`,
      );
      const rc = await run(["/usr/bin/salt-pepper", "web2", "test.ping"], {
        HOME: home,
        PATH: "/usr/bin:/bin",
      });
      assert.equal(rc.code, 0, rc.stdout + rc.stderr);
      assert.deepEqual(JSON.parse(rc.stdout), { return: [{ web2: true }] });
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  });
});

Deno.test("external_auth perms are enforced per function and target, on POST /, /run and the resource routes", async () => {
  await using site = await startResourceSite();
  const { api } = site;
  const carol = await login(api, "carol"); // test.* anywhere, grains.* on web1, @jobs
  const post = async (low: Record<string, unknown>, path = "/") => {
    const res = await fetch(`${api.url}${path.slice(1)}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": carol },
      body: JSON.stringify([low]),
    });
    return { status: res.status, body: await res.json() as Any };
  };
  const get = async (path: string) => {
    const res = await fetch(`${api.url}${path.slice(1)}`, { headers: { "x-auth-token": carol } });
    return { status: res.status, body: await res.json() as Any };
  };
  let r = await post({ client: "local", tgt: "*", fun: "test.ping" });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.return[0], { web1: true, web2: true });
  r = await post({ client: "local", tgt: "web1", fun: "grains.item", arg: ["id"] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.return[0], { web1: { id: "web1" } });
  for (
    const low of [
      { client: "local", tgt: "web2", fun: "grains.item", arg: ["id"] },
      { client: "local", tgt: "*", fun: "grains.items" },
      { client: "local", tgt: "web1", fun: "cmd.run", arg: ["id"] },
    ]
  ) {
    r = await post(low);
    assert.equal(r.status, 401, JSON.stringify(low));
    assert.equal(r.body.return, "Authorization error occurred.");
  }
  r = await post({ client: "local", tgt: "web1,web2", tgt_type: "list", fun: "grains.items" });
  assert.equal(r.status, 401, "web2 is outside the web1 mapping");
  r = await post({ client: "runner", fun: "jobs.list_jobs" });
  assert.equal(r.status, 200);
  r = await post({ client: "runner", fun: "manage.up" });
  assert.equal(r.status, 401);
  assert.match(r.body.return, /Authentication failure of type "eauth" occurred for user carol/);
  r = await post({ client: "wheel", fun: "key.list_all" });
  assert.equal(r.status, 401);
  assert.equal((await get("/jobs")).status, 200);
  assert.equal((await get("/keys")).status, 401);
  assert.equal((await get("/minions")).status, 401, "grains.items on * is not allowed");
  const web1 = await get("/minions/web1");
  assert.equal(web1.status, 200);
  assert.equal(web1.body.return[0].web1.id, "web1");
  const minions = await fetch(`${api.url}minions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": carol },
    body: JSON.stringify([{ tgt: "*", fun: "cmd.run", arg: ["id"] }]),
  });
  assert.equal(minions.status, 401);
  await minions.body?.cancel();
  // /run with carol's credentials carries her perms; alice's work as before.
  const creds = { username: "carol", password: PASSWORD, eauth: "saltbus" };
  r = await post({ client: "local", tgt: "*", fun: "cmd.run", arg: ["id"], ...creds }, "/run");
  assert.equal(r.status, 401);
  r = await post({ client: "local", tgt: "*", fun: "test.ping", ...creds }, "/run");
  assert.equal(r.status, 200);
  const alice = await login(api);
  const wheel = await fetch(api.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": alice },
    body: JSON.stringify({ client: "wheel", fun: "key.list_all" }),
  });
  assert.equal(wheel.status, 200, "alice has @wheel");
  await wheel.body?.cancel();
  assert.match(api.logs.join("\n"), /carol may not run local cmd\.run \(external_auth perms\)/);
});
