import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { defaultSockDir, minionHash, SALT_SOCK_DIRS, socketPaths } from "./paths.ts";

Deno.test("minionHash() gives the §1.3 reference hashes", () => {
  assert.equal(minionHash("foo"), "2c26b46b68");
  assert.equal(minionHash("foo", "sha256"), "2c26b46b68");
  assert.equal(minionHash("foo", "md5"), "acbd18db4c");
  assert.equal(minionHash("foo", "sha512"), "f7fbba6e06");
  assert.equal(minionHash(""), "e3b0c44298");
  assert.equal(minionHash("minion"), "bbebec50e4");
  assert.equal(minionHash("minion", "md5"), "17dc79754f");
  assert.equal(minionHash("test-minion"), "a50f24a9bc");
});

Deno.test("minionHash() hashes the UTF-8 bytes of the id", () => {
  // python3 -c 'import hashlib; print(hashlib.sha256("mïnion".encode()).hexdigest()[:10])'
  assert.equal(minionHash("mïnion"), "df1e3ab572");
});

Deno.test("minionHash() accepts Python hashlib names", () => {
  assert.equal(minionHash("foo", "sha1"), "0beec7b5ea");
  assert.equal(minionHash("foo", "sha3_256"), "76d3bc41c9");
  assert.equal(minionHash("foo", "blake2b"), "ca002330e6");
});

Deno.test("minionHash() throws ConfigError naming hash_type for an unknown algorithm", () => {
  for (const bad of ["nope", "SHA256", "sha3-256", "toString"]) {
    assert.throws(() => minionHash("foo", bad), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /hash_type/);
      assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
      return true;
    });
  }
});

Deno.test("socketPaths('master') gives master_event_{pub,pull}.ipc", () => {
  assert.deepEqual(socketPaths("master", { sockDir: "/tmp/x", id: "ignored" }), {
    pub: "/tmp/x/master_event_pub.ipc",
    pull: "/tmp/x/master_event_pull.ipc",
  });
});

Deno.test("socketPaths('minion') hashes the id into the file names", () => {
  assert.deepEqual(socketPaths("minion", { sockDir: "/tmp/x", id: "foo" }), {
    pub: "/tmp/x/minion_event_2c26b46b68_pub.ipc",
    pull: "/tmp/x/minion_event_2c26b46b68_pull.ipc",
  });
});

Deno.test("socketPaths('minion') without an id hashes ''", () => {
  assert.deepEqual(socketPaths("minion", { sockDir: "/tmp/x" }), {
    pub: "/tmp/x/minion_event_e3b0c44298_pub.ipc",
    pull: "/tmp/x/minion_event_e3b0c44298_pull.ipc",
  });
});

Deno.test("socketPaths('minion') prefers hashId over id and honours hashType", () => {
  const paths = socketPaths("minion", { sockDir: "/tmp/x/", id: "other", hashId: "minion" });
  assert.equal(paths.pub, "/tmp/x/minion_event_bbebec50e4_pub.ipc");
  const md5 = socketPaths("minion", { sockDir: "/tmp/x", id: "minion", hashType: "md5" });
  assert.equal(md5.pull, "/tmp/x/minion_event_17dc79754f_pull.ipc");
  assert.throws(
    () => socketPaths("minion", { sockDir: "/tmp/x", id: "a", hashType: "bad" }),
    ConfigError,
  );
});

Deno.test("SALT_SOCK_DIRS holds Salt's default sock_dir paths", () => {
  assert.deepEqual({ ...SALT_SOCK_DIRS }, {
    master: "/var/run/salt/master",
    minion: "/var/run/salt/minion",
  });
});

function withRuntimeDir(value: string | undefined, fn: () => void): void {
  const saved = Deno.env.get("XDG_RUNTIME_DIR");
  try {
    if (value === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", value);
    fn();
  } finally {
    if (saved === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", saved);
  }
}

Deno.test("defaultSockDir() uses $XDG_RUNTIME_DIR/saltbus/<node> when set", () => {
  withRuntimeDir("/run/user/4242", () => {
    assert.equal(defaultSockDir("master"), "/run/user/4242/saltbus/master");
    assert.equal(defaultSockDir("minion"), "/run/user/4242/saltbus/minion");
  });
});

Deno.test("defaultSockDir() falls back to /tmp/saltbus-<uid>/<node>", () => {
  const uid = Deno.uid() ?? "user";
  withRuntimeDir(undefined, () => {
    assert.equal(defaultSockDir("master"), `/tmp/saltbus-${uid}/master`);
  });
  withRuntimeDir("", () => {
    assert.equal(defaultSockDir("minion"), `/tmp/saltbus-${uid}/minion`);
  });
});
