/**
 * Proves the multi-host NATS test helpers against real components: private
 * nats-server processes, network namespaces, openssl-made certificates.
 *
 * nats.js 3.4 (transport-node) under Deno and TLS to an IP address: when the
 * server URL holds an IP, nats.js passes `servername: ""` to `node:tls`, so the
 * certificate is checked against the default host "localhost" (error "Host:
 * localhost. is not in the cert's altnames"). `tls.servername` cannot fix it
 * for an IP ("options.servername must not be an IP address"); the extra,
 * untyped option `tls.host` (e.g. `tls: { caFile, host: "127.0.0.1" }`) makes
 * the check use the IP SAN. `tls.servername: "<dns name in the cert>"` works
 * too (SNI + check against that name).
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect, type NatsConnection } from "npm:@nats-io/transport-node@3.4.0";
import { startNatsServer } from "./nats_server.ts";
import { cleanupStaleHosts, makeHosts } from "./netns.ts";
import { makeCerts } from "./tls_certs.ts";

/** Resolves the error `fn` rejects with (fails when it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

/** Asserts `text` contains `part`. */
function includes(text: string, part: string, message?: string): void {
  assert.ok(text.includes(part), message ?? `${JSON.stringify(part)} not in:\n${text}`);
}

/** Whether a process with this pid exists (a reaped child no longer does). */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Subscribes, publishes, and resolves the payload that came back. */
async function roundTrip(nc: NatsConnection, payload: string): Promise<string> {
  const sub = nc.subscribe("helpers.echo", { max: 1 });
  nc.publish("helpers.echo", payload);
  for await (const m of sub) return m.string();
  throw new Error("subscription ended without a message");
}

/** Speaks raw NATS protocol: CONNECT `connectJson`, PING; resolves what the server said. */
async function rawConnect(port: number, connectJson: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`CONNECT ${connectJson}\r\nPING\r\n`));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!/-ERR|PONG/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

/**
 * Raw NATS over TLS: reads INFO in plain text, upgrades (trusting `caFile`, no client
 * certificate: `Deno.startTls` cannot present one), sends CONNECT + PING and resolves the
 * reply; rejects when the handshake or the first read fails.
 */
async function rawTlsPing(port: number, caFile: string): Promise<string> {
  const plain = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(8192);
  const dec = new TextDecoder();
  let conn: Deno.Conn = plain;
  try {
    let info = "";
    while (!info.includes("\r\n")) {
      const n = await plain.read(buf);
      if (n === null) throw new Error("closed before INFO");
      info += dec.decode(buf.subarray(0, n));
    }
    conn = await Deno.startTls(plain, {
      hostname: "localhost",
      caCerts: [await Deno.readTextFile(caFile)],
    });
    await conn.write(new TextEncoder().encode("CONNECT {}\r\nPING\r\n"));
    let text = "";
    while (!/-ERR|PONG/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`closed: ${text}`);
      text += dec.decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

/** Connects with no reconnects and a short timeout (so failures are quick). */
function dial(opts: Parameters<typeof connect>[0]): Promise<NatsConnection> {
  return connect({ reconnect: false, timeout: 3000, ...opts });
}

Deno.test("private nats-server: free port, pub/sub, kill + restart, reload, stop", async () => {
  await using server = await startNatsServer({ jetstream: true });
  assert.ok(server.port !== 4222, "never the machine-wide server");
  assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
  includes(await Deno.readTextFile(server.configPath), `${server.dir}/jetstream`);
  includes(server.logs(), "Starting JetStream");

  let nc = await dial({ servers: server.url });
  assert.equal(await roundTrip(nc, "one"), "one");
  await nc.close();

  const firstPid = server.pid;
  await server.kill();
  assert.ok(!alive(firstPid), "killed process is gone");
  assert.equal(server.pid, 0);
  await rejection(() => dial({ servers: server.url }));

  await server.restart();
  assert.ok(server.pid !== 0 && server.pid !== firstPid);
  nc = await dial({ servers: server.url });
  assert.equal(await roundTrip(nc, "two"), "two");
  await nc.close();

  // Reload: require a token from now on.
  await Deno.writeTextFile(server.configPath, `authorization { token: "s3cret" }\n`, {
    append: true,
  });
  await server.reload();
  // (A raw client, not nats.js: a nats.js connect refused for auth can leave an
  // unhandled ECONNRESET socket error behind under Deno, failing the test run.)
  includes(await rawConnect(server.port, "{}"), "Authorization Violation");
  nc = await dial({ servers: server.url, token: "s3cret" });
  assert.equal(nc.info?.auth_required, true);
  assert.equal(await roundTrip(nc, "three"), "three");
  await nc.close();

  const pid = server.pid;
  await server.stop();
  assert.ok(!alive(pid), "stopped process is gone");
  await server.close();
  assert.ok((await rejection(() => Deno.stat(server.dir))) instanceof Deno.errors.NotFound);
});

Deno.test("private nats-server: a bad config fails with the server's output", async () => {
  const err = await rejection(() => startNatsServer({ config: "this is { not valid" }));
  includes((err as Error).message, "nats-server exited before ready");
});

/** The child script: `serve <url>` answers requests on helpers.svc; `ask <url> <port>` asks. */
const CHILD = `
import { connect } from "npm:@nats-io/transport-node@3.4.0";
const [mode, url, port] = Deno.args;
// A namespace's network can take a moment to pass traffic: try for a while.
async function connectSoon() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect({ servers: url, reconnect: false, timeout: 5000 });
    } catch (err) {
      if (attempt === 10) throw err;
      console.error("connect attempt " + attempt + ": " + err);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
const nc = await connectSoon();
if (mode === "serve") {
  const sub = nc.subscribe("helpers.svc");
  await nc.flush();
  console.log("READY");
  for await (const m of sub) m.respond("pong:" + m.string());
} else {
  let isolated = "no";
  try {
    const other = await connect({ servers: "127.0.0.1:" + port, reconnect: false, timeout: 1000 });
    await other.close();
  } catch {
    isolated = "yes";
  }
  const r = await nc.request("helpers.svc", "ping", { timeout: 5000 });
  console.log(JSON.stringify({ reply: r.string(), isolated }));
  await nc.close();
}
`;

Deno.test("network namespaces: a client in m1 talks to a nats-server in hub", async (t) => {
  await cleanupStaleHosts();
  await using hosts = await makeHosts(["hub", "m1"]);
  if (!hosts) {
    console.log("skipped: network namespaces unavailable");
    return;
  }
  assert.ok(hosts.addr("hub") !== hosts.addr("m1"));
  const netns = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  includes(new TextDecoder().decode(netns.stdout), hosts.ns("m1"));

  await using server = await startNatsServer({ host: hosts.addr("hub"), netns: hosts.ns("hub") });
  const dir = await Deno.makeTempDir({ prefix: "saltbus-netns-child-" });
  try {
    const script = `${dir}/child.ts`;
    await Deno.writeTextFile(script, CHILD);
    const deno = Deno.execPath();
    const args = [deno, "run", "--cached-only", "--no-lock", "--allow-net", "--allow-env", script];

    const server2 = hosts.exec("hub", [...args, "serve", server.url]);
    const lines = server2.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const errText = new Response(server2.stderr).text();
    try {
      let seen = "";
      while (!seen.includes("READY")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`serve child exited: ${seen}\n${await errText}`);
        seen += value;
      }
      await t.step("request from m1 over the namespace network", async () => {
        const out = await hosts.exec("m1", [...args, "ask", server.url, String(server.port)])
          .output();
        const dec = new TextDecoder();
        assert.equal(out.code, 0, dec.decode(out.stderr));
        const result = JSON.parse(dec.decode(out.stdout).trim());
        assert.deepEqual(result, { reply: "pong:ping", isolated: "yes" });
      });
    } finally {
      // The child may have exited already (the error above says why).
      try {
        server2.kill("SIGKILL");
      } catch { /* already exited */ }
      await server2.status;
      while (!(await lines.read()).done) { /* drain */ }
      await errText;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await server.close();
  const names = hosts.names.map((n) => hosts.ns(n));
  await hosts.cleanup();
  const after = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  const left = new TextDecoder().decode(after.stdout);
  for (const ns of names) assert.ok(!left.includes(ns), `namespace ${ns} still exists`);
  assert.ok(!left.includes(`sb${Deno.pid}.`), `a namespace of ours is left: ${left}`);
});

Deno.test("network namespaces: cleanupStaleHosts removes a dead process's namespaces", async () => {
  const probe = await makeHosts(["probe"]);
  if (!probe) {
    console.log("skipped: network namespaces unavailable");
    return;
  }
  await probe.cleanup();
  const dead = new Deno.Command("true").spawn();
  await dead.status; // reaped: its pid belongs to nobody now
  const stale = `sb${dead.pid}.0-ghost`;
  const add = await new Deno.Command("ip", { args: ["netns", "add", stale], stderr: "piped" })
    .output();
  assert.ok(add.success, new TextDecoder().decode(add.stderr));
  try {
    const removed = await cleanupStaleHosts();
    assert.ok(removed.includes(stale), `removed ${removed}`);
    const list = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" })
      .output();
    assert.ok(!new TextDecoder().decode(list.stdout).includes(stale));
  } finally {
    await new Deno.Command("ip", { args: ["netns", "del", stale], stderr: "null" }).output();
  }
});

Deno.test("TLS: CA-signed server cert, DNS name and IP address, mutual TLS", async (t) => {
  const certs = await makeCerts({
    serverNames: ["nats.test", "localhost"],
    serverIps: ["127.0.0.1"],
    clients: ["alice"],
  });
  try {
    const tls = `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n` +
      `  ca_file: "${certs.caCert}"\n}`;
    await using server = await startNatsServer({ config: tls });

    await t.step("by DNS name with just caFile", async () => {
      const nc = await dial({ servers: `localhost:${server.port}`, tls: { caFile: certs.caCert } });
      assert.equal(await roundTrip(nc, "dns"), "dns");
      await nc.close();
    });

    await t.step("without the CA the server is not trusted", async () => {
      await rejection(() => dial({ servers: `localhost:${server.port}`, tls: {} }));
    });

    await t.step("by IP: plain caFile fails (nats.js checks 'localhost')", async () => {
      // A cert without DNS:localhost shows the problem.
      const ipCerts = await makeCerts({ serverNames: ["nats.test"], serverIps: ["127.0.0.1"] });
      try {
        const ipTls = `tls {\n  cert_file: "${ipCerts.serverCert}"\n  key_file: ` +
          `"${ipCerts.serverKey}"\n}`;
        await using ipServer = await startNatsServer({ config: ipTls });
        const servers = `127.0.0.1:${ipServer.port}`;
        const caFile = ipCerts.caCert;
        const err = await rejection(() => dial({ servers, tls: { caFile } }));
        includes(String((err as Error).message), "localhost");
        // servername may not be an IP address (node:tls refuses it)...
        await rejection(() => dial({ servers, tls: { caFile, servername: "127.0.0.1" } as never }));
        // ...but `host` is used for the identity check, against the IP SAN:
        let nc = await dial({ servers, tls: { caFile, host: "127.0.0.1" } as never });
        assert.equal(await roundTrip(nc, "ip"), "ip");
        await nc.close();
        // servername = a DNS name in the cert works too.
        nc = await dial({ servers, tls: { caFile, servername: "nats.test" } as never });
        assert.equal(await roundTrip(nc, "sni"), "sni");
        await nc.close();
      } finally {
        await ipCerts.cleanup();
      }
    });

    await t.step("mutual TLS: verify requires a client certificate", async () => {
      const mtls = `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n` +
        `  ca_file: "${certs.caCert}"\n  verify: true\n}`;
      await using mServer = await startNatsServer({ config: mtls });
      const servers = `localhost:${mServer.port}`;
      // Raw TLS client, not nats.js: a nats.js connect the server refuses leaves an unhandled
      // "received fatal alert: BadCertificate" socket error behind under Deno.
      const refused = await rejection(() => rawTlsPing(mServer.port, certs.caCert));
      includes(String(refused), "BadCertificate");
      const nc = await dial({
        servers,
        tls: {
          caFile: certs.caCert,
          certFile: certs.clientCert("alice"),
          keyFile: certs.clientKey("alice"),
        },
      });
      assert.equal(await roundTrip(nc, "mtls"), "mtls");
      await nc.close();
    });
  } finally {
    await certs.cleanup();
  }
  assert.ok((await rejection(() => Deno.stat(certs.dir))) instanceof Deno.errors.NotFound);
});
