/**
 * A separate non-Deno process speaks the protocol: Python 3 with msgpack
 * (Debian's python3-msgpack), firing and listening exactly as Salt 3006
 * does (salt-spec §2).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestBus } from "./harness.ts";

const PYTHON = "/usr/bin/python3";

/** Fails with a clear message when python3-msgpack is missing. */
async function requirePythonMsgpack(): Promise<void> {
  let ok = false;
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", "import msgpack"], stderr: "null" })
      .output();
    ok = out.code === 0;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `${PYTHON} cannot import msgpack: run \`apt-get install -y python3-msgpack\` (CI: .ci/run)`,
    );
  }
}

/** Python's side of the wire, as Salt 3006 writes and reads it. */
const PY_SCRIPT = String.raw`
import datetime, json, socket, sys
import msgpack

TAGEND = b"\n\n"

def fire(path, tag, data):
    # salt.utils.event.SaltEvent.fire_event (3006) + frame_msg_ipc
    body = tag.encode("utf-8") + TAGEND + msgpack.packb(data, use_bin_type=True)
    frame = msgpack.packb({"head": {}, "body": body}, use_bin_type=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(frame)
    s.close()
    print(frame.hex(), flush=True)

def ext_hook(code, payload):
    # salt.payload.loads
    if code == 78:
        return datetime.datetime.strptime(payload.decode(), "%Y%m%dT%H:%M:%S.%f")
    return payload

def to_json(value):
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": bytes(value).hex()}
    if isinstance(value, datetime.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return {"__int__": str(value)}
    return value

def listen(path, count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    print("READY", flush=True)
    unpacker = msgpack.Unpacker(raw=False)
    seen = 0
    while seen < count:
        chunk = s.recv(4096)
        if not chunk:
            break
        unpacker.feed(chunk)
        for msg in unpacker:
            # salt.utils.event.SaltEvent.unpack
            body = msg["body"]
            mtag, sep, mdata = body.partition(TAGEND)
            data = msgpack.unpackb(mdata, raw=False, strict_map_key=False, ext_hook=ext_hook)
            print(json.dumps({"keys": list(msg.keys()), "head": msg["head"],
                              "tag": mtag.decode("utf-8"), "data": to_json(data)}), flush=True)
            seen += 1
    s.close()

if sys.argv[1] == "fire":
    fire(sys.argv[2], "py/evént/1", {
        "text": "héllo wörld ✓ ключ",
        "raw": b"\x00\xff\x10\n\n",
        "big": 2**60 + 1,
        "neg": -(2**62),
        "small": 7,
        "float": 1.5,
        "none": None,
        "flag": True,
        "when": msgpack.ExtType(78, b"20240501T12:34:56.789012"),
        "nested": {"a": {"b": [1, 2.5, None, "ü"]}, 1: "int key"},
        "_stamp": "2024-05-01T12:34:56.789012",
    })
else:
    listen(sys.argv[2], int(sys.argv[3]))
`;

async function writeScript(dir: string): Promise<string> {
  const path = join(dir, "salt_peer.py");
  await Deno.writeTextFile(path, PY_SCRIPT);
  return path;
}

function hexBytes(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

Deno.test("a Python process firing like Salt 3006 reaches a Deno listener with tag and data intact", async () => {
  await requirePythonMsgpack();
  await using t = await startTestBus();
  const script = await writeScript(t.sockDir);
  const listener = t.client();
  assert.equal(await listener.connected(2), true);
  const raw = await Deno.connect({ transport: "unix", path: t.bus.paths.pub });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const out = await new Deno.Command(PYTHON, { args: [script, "fire", t.bus.paths.pull] })
      .output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const sent = hexBytes(new TextDecoder().decode(out.stdout).trim());

    const evt = await listener.getEvent({ wait: 3, full: true });
    assert.ok(evt, "the Deno listener got the event");
    assert.equal(evt.tag, "py/evént/1");
    const data = evt.data;
    assert.deepEqual(Object.keys(data), [
      "text",
      "raw",
      "big",
      "neg",
      "small",
      "float",
      "none",
      "flag",
      "when",
      "nested",
      "_stamp",
    ]);
    assert.equal(data.text, "héllo wörld ✓ ключ");
    assert.ok(data.raw instanceof Uint8Array);
    assert.deepEqual(Array.from(data.raw), [0x00, 0xff, 0x10, 0x0a, 0x0a]);
    assert.equal(data.big, 2n ** 60n + 1n);
    assert.equal(data.neg, -(2n ** 62n));
    assert.equal(data.small, 7);
    assert.equal(data.float, 1.5);
    assert.equal(data.none, null);
    assert.equal(data.flag, true);
    assert.ok(data.when instanceof Date);
    assert.equal(data.when.toISOString(), "2024-05-01T12:34:56.789Z");
    assert.deepEqual(data.nested, { a: { b: [1, 2.5, null, "ü"] }, 1: "int key" });
    assert.equal(data._stamp, "2024-05-01T12:34:56.789012");

    // The broker forwarded Python's frame byte for byte.
    const got = new Uint8Array(sent.length);
    let at = 0;
    while (at < got.length) {
      const n = await raw.read(got.subarray(at));
      assert.notEqual(n, null, "raw subscriber stream ended early");
      at += n!;
    }
    assert.deepEqual(got, sent);
  } finally {
    raw.close();
  }
});

Deno.test("a Python subscriber decoding like Salt's SaltEvent.unpack reads what Deno fires", async () => {
  await requirePythonMsgpack();
  await using t = await startTestBus();
  const script = await writeScript(t.sockDir);
  const child = new Deno.Command(PYTHON, {
    args: [script, "listen", t.bus.paths.pub, "2"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`python exited early: ${await stderr}`);
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return line;
  };
  try {
    assert.equal(await nextLine(), "READY");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const firer = t.client({ listen: false });
    assert.equal(
      await firer.fireEvent({
        text: "héllo wörld ✓ ключ",
        raw: Uint8Array.of(0, 0xff, 0x10),
        big: 2n ** 60n + 1n,
        float: 0.25,
        none: null,
        when: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789)),
        nested: { a: { b: [1, 2.5, null, "ü"] }, m: new Map([["k", new Set([1, 2])]]) },
      }, "deno/évent"),
      true,
    );
    // A big one too: many 4 KiB reads on the Python side.
    const big = Array.from({ length: 1e5 }, (_, n) => String(n)).join("");
    assert.equal(await firer.fireEvent({ big }, "deno/big"), true);

    const first = JSON.parse(await nextLine());
    assert.deepEqual(first.keys, ["head", "body"]);
    assert.deepEqual(first.head, {});
    assert.equal(first.tag, "deno/évent");
    const { _stamp, ...data } = first.data;
    assert.match(_stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
    assert.deepEqual(data, {
      text: "héllo wörld ✓ ключ",
      raw: { __bytes__: "00ff10" },
      big: { __int__: "1152921504606846977" },
      float: 0.25,
      none: null,
      when: { __datetime__: "2024-05-01T12:34:56.789000" },
      nested: { a: { b: [1, 2.5, null, "ü"] }, m: { k: [1, 2] } },
    });
    // Key order survives the trip (Python dicts keep insertion order).
    assert.deepEqual(Object.keys(first.data), [
      "text",
      "raw",
      "big",
      "float",
      "none",
      "when",
      "nested",
      "_stamp",
    ]);

    const second = JSON.parse(await nextLine());
    assert.equal(second.tag, "deno/big");
    assert.equal(second.data.big.length, 488_890);
    assert.equal(second.data.big, big);

    const status = await child.status;
    assert.equal(status.code, 0, await stderr);
  } finally {
    await lines.cancel().catch(() => {});
    try {
      child.kill();
    } catch {
      // already exited
    }
    await child.status;
    await stderr;
  }
});
