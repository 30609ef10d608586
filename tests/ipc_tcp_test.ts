/**
 * `ipc_mode: tcp` (spec §17): the bus on 127.0.0.1 with Salt's framing, as
 * a Windows minion's. A Python process speaking Salt's frames over TCP fires
 * and listens, as the Unix-socket interop test does.
 */
import assert from "node:assert/strict";
import { startBus } from "../broker/start_bus.ts";
import { resolveConfig } from "../bus/config.ts";
import { getEvent } from "../transport/get_event.ts";
import { captureLog } from "./harness.ts";

const PY = String.raw`
import socket, sys, json
import msgpack
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if mode == "fire":
    body = b"py/tcp/hello" + b"\n\n" + msgpack.packb({"from": "python", "n": 1}, use_bin_type=True)
    s.sendall(msgpack.packb({"head": {}, "body": body}, use_bin_type=True))
    s.close()
else:
    print("READY", flush=True)
    unpacker = msgpack.Unpacker(raw=False)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        unpacker.feed(chunk)
        for msg in unpacker:
            tag, _, data = msg["body"].partition(b"\n\n")
            print(json.dumps({"tag": tag.decode(), "data": msgpack.unpackb(data, raw=False)}), flush=True)
            sys.exit(0)
`;

/** Two free loopback ports (bound, then released). */
function freePorts(): [number, number] {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const b = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ports: [number, number] = [(a.addr as Deno.NetAddr).port, (b.addr as Deno.NetAddr).port];
  a.close();
  b.close();
  return ports;
}

Deno.test("ipc_mode: tcp binds Salt's ports on 127.0.0.1 only, by default 4512/4513 and 4510/4511", () => {
  const master = resolveConfig("master", { ipc_mode: "tcp", sock_dir: "/tmp/x" });
  assert.equal(master.tcp_master_pub_port, 4512);
  assert.equal(master.tcp_master_pull_port, 4513);
  const minion = resolveConfig("minion", { ipc_mode: "tcp", id: "w", sock_dir: "/tmp/x" });
  assert.equal(minion.tcp_pub_port, 4510);
  assert.equal(minion.tcp_pull_port, 4511);
  assert.throws(
    () => resolveConfig("master", { ipc_mode: "zmq", sock_dir: "/tmp/x" }),
    /ipc_mode in options: expected ipc or tcp/,
  );
  assert.throws(
    () => resolveConfig("master", { ipc_mode: "tcp", tcp_master_pub_port: 70000, sock_dir: "/x" }),
    /tcp_master_pub_port in options: expected a TCP port/,
  );
});

Deno.test("a Python process speaking Salt's frames over TCP fires to and listens on an ipc_mode: tcp bus", async () => {
  const sockDir = await Deno.makeTempDir();
  const [pub, pull] = freePorts();
  const opts = { ipc_mode: "tcp", tcp_master_pub_port: pub, tcp_master_pull_port: pull };
  const { log } = captureLog();
  const bus = await startBus({ node: "master", sockDir, config: opts, log });
  const ev = getEvent("master", { sockDir, opts });
  try {
    assert.equal(bus.paths.pub, `tcp://127.0.0.1:${pub}`);
    // No socket files for a TCP bus.
    const files = [];
    for await (const entry of Deno.readDir(sockDir)) files.push(entry.name);
    assert.deepEqual(files.filter((f) => f.endsWith(".ipc")), []);

    assert.equal(await ev.connected(), true);
    await new Promise((r) => setTimeout(r, 50)); // the broker accepts the subscriber
    const fired = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", PY, "fire", String(pull)],
    })
      .output();
    assert.equal(fired.code, 0, new TextDecoder().decode(fired.stderr));
    const got = await ev.getEvent({ tag: "py/tcp/", wait: 5, full: true });
    assert.deepEqual(got, { tag: "py/tcp/hello", data: { from: "python", n: 1 } });

    const listener = new Deno.Command("/usr/bin/python3", {
      args: ["-c", PY, "listen", String(pub)],
      stdout: "piped",
    }).spawn();
    const reader = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("READY\n")) text += (await reader.read()).value ?? "";
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await ev.fireEvent({ from: "deno" }, "deno/tcp/hello"), true);
    while (!text.includes("}\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    assert.equal((await listener.status).code, 0);
    const line = JSON.parse(text.split("\n").find((l) => l.startsWith("{"))!);
    assert.equal(line.tag, "deno/tcp/hello");
    assert.equal(line.data.from, "deno");
    assert.match(line.data._stamp, /^\d{4}-/);
  } finally {
    await ev.close();
    await bus.close();
    await Deno.remove(sockDir, { recursive: true });
  }
});
