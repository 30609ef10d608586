/**
 * The API as real processes: `cli.ts api` against a running bus (and
 * across a bus restart), `cli.ts master` with an `api:` block, and
 * `cli.ts api hash-password`.
 */
import assert from "node:assert/strict";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { verifyPassword } from "../api/auth.ts";
import { EXTERNAL_AUTH, PASSWORD, STAMP } from "./api_harness.ts";
import { collect, runCli, spawnCli, startTestBus } from "./harness.ts";
import { raceDeadline, TIMED_OUT } from "../bus/async.ts";

async function writeConfig(dir: string, options: Record<string, unknown>): Promise<string> {
  const file = `${dir}/master.conf`;
  // JSON is YAML.
  await Deno.writeTextFile(
    file,
    JSON.stringify({ api: { port: 0 }, external_auth: await EXTERNAL_AUTH, ...options }),
  );
  return file;
}

async function fireAt(pull: string, tag: string, data: Record<string, unknown>): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: pull });
  try {
    await conn.write(packEventFrame(tag, packData(data)));
  } finally {
    conn.close();
  }
}

/** Starts a CLI process serving the API and resolves its base URL. */
async function startApiProcess(args: string[]) {
  const child = spawnCli(args);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  await stderr.waitFor(/API ready on (\S+) /, 20_000);
  const url = /API ready on (\S+) /.exec(stderr.text)![1];
  return { child, stdout, stderr, url };
}

/** `promise`'s value, or `null` after `ms` (the timer is always cleared). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  const value = await raceDeadline(promise, Date.now() + ms);
  return value === TIMED_OUT ? null : value;
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}login`, {
    method: "POST",
    body: new URLSearchParams({ username: "alice", password: PASSWORD, eauth: "saltbus" }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).return[0].token;
}

/** Opens /events and fires `sync` events until one arrives; resolves the reader. */
async function openSynced(url: string, token: string, pull: string) {
  const res = await fetch(`${url}events?token=${token}`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let pending = reader.read();
  for (let i = 0; !text.includes("tag: sync\n"); i++) {
    if (i > 200) throw new Error(`no sync event through the API; got ${text}`);
    await fireAt(pull, "sync", { _stamp: STAMP }).catch(() => {});
    const next = await within(pending, 50);
    if (next === null) continue;
    if (next.done) throw new Error("stream ended");
    text += decoder.decode(next.value, { stream: true });
    pending = reader.read();
  }
  return {
    /** Reads until `needle` appears; resolves everything after the sync events. */
    async readUntil(needle: string): Promise<string> {
      while (!text.includes(needle)) {
        const next = await pending;
        if (next.done) break;
        text += decoder.decode(next.value, { stream: true });
        pending = reader.read();
      }
      return text.slice(text.lastIndexOf("tag: sync\n"));
    },
    async cancel() {
      await reader.cancel();
      await pending.catch(() => {});
    },
  };
}

Deno.test("cli.ts api serves /events from a running bus's sockets and follows it across a bus restart", async () => {
  const t = await startTestBus();
  const dir = t.sockDir;
  let restarted: Awaited<ReturnType<typeof startTestBus>> | null = null;
  const config = await writeConfig(await Deno.makeTempDir({ prefix: "saltbus-api-" }), {
    sock_dir: dir,
    api_token_file: "",
  });
  const api = await startApiProcess(["api", "--config", config]);
  try {
    const token = await login(api.url);
    const stream = await openSynced(api.url, token, t.bus.paths.pull);
    await fireAt(t.bus.paths.pull, "salt/auth", { a: 1, _stamp: STAMP });
    const text = await stream.readUntil('salt/auth"}\nid:');
    assert.match(
      text,
      /\ntag: salt\/auth\ndata: \{"data": \{"a": 1, "_stamp": "2024-05-01T12:34:56\.789012"\}, "tag": "salt\/auth"\}\nid: \d+\n\n$/,
    );
    // The bus goes away and comes back on the same sock_dir: the API reconnects.
    await t.bus.close();
    restarted = await startTestBus({ sockDir: dir });
    let seen = false;
    const reading = stream.readUntil("tag: after/restart\n");
    for (let i = 0; i < 200 && !seen; i++) {
      await fireAt(restarted.bus.paths.pull, "after/restart", { i, _stamp: STAMP });
      seen = (await within(reading, 50)) !== null;
    }
    assert.ok(seen, "events after the bus restart reach the stream");
    await stream.cancel();
  } finally {
    api.child.kill("SIGTERM");
    const status = await api.child.status;
    await api.stdout.done;
    await api.stderr.done;
    await restarted?.close();
    await t.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(config.replace(/\/master\.conf$/, ""), { recursive: true });
    assert.equal(status.code, 0, api.stderr.text);
  }
});

Deno.test("cli.ts master with an api: block serves the API on its in-process bus", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-api-" });
  const sockDir = `${dir}/master`;
  const config = await writeConfig(dir, { sock_dir: sockDir });
  const master = await startApiProcess(["master", "--config", config]);
  try {
    await master.stderr.waitFor("master bus ready");
    const token = await login(master.url);
    const stream = await openSynced(master.url, token, `${sockDir}/master_event_pull.ipc`);
    await fireAt(`${sockDir}/master_event_pull.ipc`, "my/tag", { b: [1, 2], _stamp: STAMP });
    const text = await stream.readUntil('my/tag"}\nid:');
    assert.match(
      text,
      /\ntag: my\/tag\ndata: \{"data": \{"b": \[1, 2\], "_stamp": "[^"]+"\}, "tag": "my\/tag"\}\nid: \d+\n\n$/,
    );
    await stream.cancel();
    // Tokens are kept (as digests) in sock_dir/api_tokens.json, mode 0600.
    const stat = await Deno.stat(`${sockDir}/api_tokens.json`);
    assert.equal(stat.mode! & 0o777, 0o600);
    assert.ok(!(await Deno.readTextFile(`${sockDir}/api_tokens.json`)).includes(token));
  } finally {
    master.child.kill("SIGTERM");
    const status = await master.child.status;
    await master.stdout.done;
    await master.stderr.done;
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, master.stderr.text);
  }
});

Deno.test("cli.ts api hash-password prints a PBKDF2 hash that verifies; bad api options are one clear line", async () => {
  const { code, stdout } = await runCli(["api", "hash-password", "correct horse"]);
  assert.equal(code, 0);
  const hash = stdout.trim();
  assert.match(hash, /^pbkdf2-sha256\$600000\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  assert.ok(await verifyPassword("correct horse", hash));
  assert.ok(!(await verifyPassword("wrong", hash)));
  const fromStdin = await runCli(["api", "hash-password"], { stdin: "pw from stdin\n" });
  assert.ok(await verifyPassword("pw from stdin", fromStdin.stdout.trim()));

  const dir = await Deno.makeTempDir({ prefix: "saltbus-api-" });
  try {
    const file = `${dir}/master.conf`;
    await Deno.writeTextFile(file, `sock_dir: ${dir}/m\napi:\n  port: 99999\n`);
    const bad = await runCli(["api", "--config", file]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      `saltbus: api.port in ${file}: expected a port number (0-65535), got 99999\n`,
    );
    await Deno.writeTextFile(
      file,
      `sock_dir: ${dir}/m\nexternal_auth:\n  saltbus:\n    alice:\n      password: plain\n`,
    );
    const plain = await runCli(["api", "--config", file]);
    assert.equal(plain.code, 1);
    assert.match(
      plain.stderr,
      /external_auth\.saltbus\.alice\.password in .*: expected a hash printed by 'cli.ts api hash-password/,
    );
    assert.ok(!plain.stderr.includes("plain"), "the configured password is not echoed");
    // The port is taken: one line, exit 1, no stack trace.
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await Deno.writeTextFile(file, `sock_dir: ${dir}/m\napi:\n  port: ${taken.addr.port}\n`);
    const busy = await runCli(["api", "--config", file]);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(
        `^saltbus: the API cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}: .*set api\\.port`,
      ),
    );
    assert.equal(busy.stderr.split("\n").length, 2, busy.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
