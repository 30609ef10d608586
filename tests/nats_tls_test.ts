/**
 * `transport: nats` with TLS between hosts (certificates made by the test,
 * the server's IP in its certificate and `server_name` set to it, as
 * nats.js 3.4 needs with IP addresses), a minion without the CA refused
 * with a clear message, and `cli.ts master` saying what is wrong when NATS
 * cannot be reached.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliArgv } from "./harness.ts";
import { startNatsSite } from "./nats_site.ts";
import { freePort } from "./postgres.ts";
import { makeCerts } from "./tls_certs.ts";

Deno.test("transport: nats over TLS: jobs across hosts; a minion without the CA is told what failed", async () => {
  await using site = await startNatsSite({
    minions: ["web1", "web2"],
    masterConfig: "auto_accept: true\n",
    certs: (ip) => makeCerts({ serverNames: ["nats.test"], serverIps: [ip] }),
  });
  assert.match(site.natsUrl, /^tls:\/\//);
  await site.master();
  const web1 = await site.minion("web1");
  await web1.stderr.waitFor(/connected to the master at NATS tls:/, 30_000);
  const r = await site.cli("hub", ["web1", "test.ping", "-c", site.masterConf]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /web1:\n {4}True/);
  // web2 trusts no CA: the certificate cannot be verified, and the log says so.
  const web2 = await site.minion("web2", "", { tls: false });
  await web2.stderr.waitFor(/TLS with NATS at tls:\/\/[\d.]+:\d+ failed .*check nats_tls/, 30_000);
  assert.ok(!/connected to the master/.test(web2.stderr.text));
  // The daemon is alive: socket errors from the client library are never fatal.
  const alive = await site.run("web2", ["kill", "-0", String(web2.child.pid)]);
  assert.equal(alive.code, 0, "the minion daemon still runs");
});

Deno.test("cli.ts master with transport: nats says what is wrong when NATS cannot be reached", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-nats-down-" });
  try {
    const port = await freePort();
    const conf = join(dir, "master.conf");
    await Deno.writeTextFile(
      conf,
      `sock_dir: ${
        join(dir, "master")
      }\ntransport: nats\nnats_servers: [nats://127.0.0.1:${port}]\n`,
    );
    const [cmd, ...args] = cliArgv(["master", "-c", conf]);
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`no NATS server at nats://127\\.0\\.0\\.1:${port} \\(connection refused\\)`),
    );
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace: ${stderr}`);
    const left = [...Deno.readDirSync(join(dir, "master"))].map((e) => e.name);
    assert.ok(!left.some((n) => n.endsWith(".ipc")), `no socket files left: ${left}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
