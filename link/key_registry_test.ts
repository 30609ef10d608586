import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { createUser } from "npm:@nats-io/nkeys@2.0.3";
import {
  type KeyChange,
  KeyRegistry,
  KeyRegistryError,
  type KeysByState,
  type KeyState,
  pkiDirOf,
  readAutosignFile,
  validId,
} from "./key_registry.ts";
import { ConfigError } from "../bus/errors.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = <T>(actual: T, expected: T, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

/** Awaits `fn`, checks it rejects with an `ErrorClass` whose message includes `includes`. */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
    if (includes !== undefined) assert(err.message.includes(includes), err.message);
    return err;
  }
  throw new Error(`expected a ${ErrorClass.name}`);
}

const MANUAL = { autoAccept: false, autosign: [] as string[] };

function newKey(): string {
  return createUser().getPublicKey();
}

async function withRegistry(
  fn: (keys: KeyRegistry, dir: string, changes: [string, KeyState | null][]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus_keys_" });
  try {
    const changes: [string, KeyState | null][] = [];
    const onChange: KeyChange = (id, state) => changes.push([id, state]);
    const keys = await KeyRegistry.open(join(dir, "pki", "master"), { onChange });
    await fn(keys, join(dir, "pki", "master"), changes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function sha256Finger(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

Deno.test("open creates the four state directories with mode 0700", async () => {
  await withRegistry(async (keys, dir) => {
    assertEquals(keys.pkiDir, dir);
    for (const sub of ["", "minions", "minions_pre", "minions_rejected", "minions_denied"]) {
      const info = await Deno.stat(join(dir, sub));
      assert(info.isDirectory);
      assertEquals(info.mode! & 0o777, 0o700, sub);
    }
    assertEquals(await keys.list(), {
      minions: [],
      minions_pre: [],
      minions_rejected: [],
      minions_denied: [],
    });
  });
});

Deno.test("open tightens an existing directory to 0700", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "minions"), { mode: 0o755 });
    await Deno.chmod(join(dir, "minions"), 0o755);
    await KeyRegistry.open(dir);
    assertEquals((await Deno.stat(join(dir, "minions"))).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown id presenting a key is pending; the key file is 0600 and one line", async () => {
  await withRegistry(async (keys, dir, changes) => {
    const pub = newKey();
    assertEquals(await keys.present("web1", pub, MANUAL), { act: "pend", result: true });
    assertEquals(await keys.state("web1"), "pending");
    assertEquals(await keys.publicKey("web1"), pub);
    const file = join(dir, "minions_pre", "web1");
    assertEquals(await Deno.readTextFile(file), `${pub}\n`);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    assertEquals(changes, [["web1", "pending"]]);
    // Presenting the same key again: still pending, nothing changes.
    assertEquals(await keys.present("web1", pub, MANUAL), { act: "pend", result: true });
    assertEquals(changes.length, 1);
    // No temporary files are left behind.
    assertEquals([...Deno.readDirSync(join(dir, "minions_pre"))].map((e) => e.name), ["web1"]);
  });
});

Deno.test("auto_accept accepts an unknown id, and a pending one on its next attempt", async () => {
  await withRegistry(async (keys) => {
    const pub = newKey();
    assertEquals(await keys.present("web1", pub, { autoAccept: true, autosign: [] }), {
      act: "accept",
      result: true,
    });
    assertEquals(await keys.state("web1"), "accepted");
    const pub2 = newKey();
    await keys.present("web2", pub2, MANUAL);
    assertEquals(await keys.present("web2", pub2, { autoAccept: true, autosign: [] }), {
      act: "accept",
      result: true,
    });
    assertEquals(await keys.state("web2"), "accepted");
    assertEquals(await keys.publicKey("web2", "pending"), null);
  });
});

Deno.test("autosign globs accept matching ids only", async () => {
  await withRegistry(async (keys) => {
    const opts = { autoAccept: false, autosign: ["web*", "db1"] };
    assertEquals((await keys.present("web7", newKey(), opts)).act, "accept");
    assertEquals((await keys.present("db1", newKey(), opts)).act, "accept");
    assertEquals((await keys.present("db2", newKey(), opts)).act, "pend");
    assertEquals((await keys.list()).minions, ["db1", "web7"]);
    assertEquals((await keys.list()).minions_pre, ["db2"]);
    // A pending id becomes accepted once an autosign glob matches it.
    const pub = newKey();
    await keys.present("app1", pub, MANUAL);
    assertEquals(await keys.present("app1", pub, { autoAccept: false, autosign: ["app?"] }), {
      act: "accept",
      result: true,
    });
    assertEquals(await keys.state("app1"), "accepted");
  });
});

Deno.test("autoreject wins over autosign, for new and pending ids", async () => {
  await withRegistry(async (keys, _dir, changes) => {
    const opts = { autoAccept: true, autosign: ["*"], autoreject: ["bad*"] };
    assertEquals(await keys.present("bad1", newKey(), opts), { act: "reject", result: false });
    assertEquals(await keys.state("bad1"), "rejected");
    const pub = newKey();
    await keys.present("bad2", pub, MANUAL);
    assertEquals(await keys.present("bad2", pub, opts), { act: "reject", result: false });
    assertEquals(await keys.state("bad2"), "rejected");
    assertEquals(changes, [["bad1", "rejected"], ["bad2", "pending"], ["bad2", "rejected"]]);
  });
});

Deno.test("an accepted id: the same key is accepted, another key is denied", async () => {
  await withRegistry(async (keys, dir) => {
    const pub = newKey();
    await keys.present("web1", pub, MANUAL);
    await keys.accept("web1");
    assertEquals(await keys.present("web1", pub, MANUAL), { act: "accept", result: true });
    const other = newKey();
    assertEquals(await keys.present("web1", other, { autoAccept: true, autosign: ["*"] }), {
      act: "denied",
      result: false,
    });
    assertEquals(await keys.state("web1"), "accepted");
    assertEquals(await keys.publicKey("web1"), pub);
    assertEquals(await keys.publicKey("web1", "denied"), other);
    assertEquals((await Deno.stat(join(dir, "minions_denied", "web1"))).mode! & 0o777, 0o600);
    assertEquals(await keys.list(), {
      minions: ["web1"],
      minions_pre: [],
      minions_rejected: [],
      minions_denied: ["web1"],
    });
  });
});

Deno.test("a pending id presenting another key is denied, as Salt; the pending key stays", async () => {
  await withRegistry(async (keys) => {
    const pub = newKey();
    await keys.present("web1", pub, MANUAL);
    const other = newKey();
    assertEquals(await keys.present("web1", other, MANUAL), { act: "denied", result: false });
    assertEquals(await keys.present("web1", other, { autoAccept: true, autosign: [] }), {
      act: "denied",
      result: false,
    });
    assertEquals(await keys.state("web1"), "pending");
    assertEquals(await keys.publicKey("web1"), pub);
    assertEquals(await keys.publicKey("web1", "denied"), other);
  });
});

Deno.test("a rejected id stays rejected whatever it presents", async () => {
  await withRegistry(async (keys) => {
    const pub = newKey();
    await keys.present("web1", pub, MANUAL);
    assertEquals(await keys.reject("web1"), { minions_pre: ["web1"] });
    assertEquals(await keys.present("web1", pub, MANUAL), { act: "reject", result: false });
    assertEquals(await keys.present("web1", newKey(), { autoAccept: true, autosign: ["*"] }), {
      act: "reject",
      result: false,
    });
    assertEquals(await keys.state("web1"), "rejected");
  });
});

Deno.test("an id with only a denied key is treated as new", async () => {
  await withRegistry(async (keys) => {
    const pub = newKey();
    await keys.present("web1", pub, MANUAL);
    await keys.accept("web1");
    const other = newKey();
    await keys.present("web1", other, MANUAL); // denied
    assertEquals(await keys.delete({ minions: ["web1"] }), { minions: ["web1"] });
    assertEquals(await keys.state("web1"), "denied");
    assertEquals(await keys.present("web1", other, MANUAL), { act: "pend", result: true });
    assertEquals(await keys.publicKey("web1"), other);
  });
});

Deno.test("accept moves pending keys; rejected and denied only when included", async () => {
  await withRegistry(async (keys, dir, changes) => {
    for (const id of ["web1", "web2", "web3", "db1"]) await keys.present(id, newKey(), MANUAL);
    await keys.reject("web3");
    // web2 accepted, then a different key for it: denied
    await keys.accept("web2");
    await keys.present("web2", newKey(), MANUAL);
    changes.length = 0;
    assertEquals(await keys.accept("web*"), { minions_pre: ["web1"] });
    assertEquals(await keys.accept("web*"), {});
    assertEquals(await keys.accept("web*", { includeRejected: true }), {
      minions_rejected: ["web3"],
    });
    assertEquals(await keys.state("web3"), "accepted");
    const denied = await keys.publicKey("web2", "denied");
    assertEquals(await keys.accept("web2", { includeDenied: true }), { minions_denied: ["web2"] });
    assertEquals(await keys.publicKey("web2"), denied);
    assertEquals(changes, [["web1", "accepted"], ["web3", "accepted"]]);
    assertEquals((await Deno.stat(join(dir, "minions", "web1"))).mode! & 0o777, 0o600);
    assertEquals(await keys.list(), {
      minions: ["web1", "web2", "web3"],
      minions_pre: ["db1"],
      minions_rejected: [],
      minions_denied: [],
    });
  });
});

Deno.test("reject moves pending keys; accepted and denied only when included", async () => {
  await withRegistry(async (keys, _dir, changes) => {
    for (const id of ["web1", "web2", "web3"]) await keys.present(id, newKey(), MANUAL);
    await keys.accept("web2,web3");
    await keys.present("web3", newKey(), MANUAL); // denied
    changes.length = 0;
    assertEquals(await keys.reject("*"), { minions_pre: ["web1"] });
    assertEquals(await keys.reject("web2"), {});
    assertEquals(await keys.reject("web2", { includeAccepted: true }), { minions: ["web2"] });
    assertEquals(await keys.reject("web3", { includeDenied: true }), { minions_denied: ["web3"] });
    // web3 keeps its accepted file, but a rejected key comes first: it is rejected now.
    assertEquals(changes, [["web1", "rejected"], ["web2", "rejected"], ["web3", "rejected"]]);
    assertEquals(await keys.state("web3"), "rejected");
    assertEquals(await keys.list(), {
      minions: ["web3"],
      minions_pre: [],
      minions_rejected: ["web1", "web2", "web3"],
      minions_denied: [],
    });
  });
});

Deno.test("delete removes every matched key in every state", async () => {
  await withRegistry(async (keys, _dir, changes) => {
    for (const id of ["web1", "web2", "web3", "db1"]) await keys.present(id, newKey(), MANUAL);
    await keys.accept("web1");
    await keys.present("web1", newKey(), MANUAL); // denied
    await keys.reject("web3");
    changes.length = 0;
    assertEquals(await keys.delete("web*"), {
      minions: ["web1"],
      minions_pre: ["web2"],
      minions_rejected: ["web3"],
      minions_denied: ["web1"],
    });
    assertEquals(await keys.delete("web*"), {});
    assertEquals(changes, [["web1", null], ["web2", null], ["web3", null]]);
    assertEquals(await keys.state("web1"), null);
    assertEquals(await keys.publicKey("web1"), null);
    assertEquals(await keys.list(), {
      minions: [],
      minions_pre: ["db1"],
      minions_rejected: [],
      minions_denied: [],
    });
  });
});

Deno.test("match forms: glob, comma list, list of globs, mapping of states", async () => {
  await withRegistry(async (keys) => {
    for (const id of ["web1", "web2", "db1", "db2", "App3"]) {
      await keys.present(id, newKey(), MANUAL);
    }
    await keys.accept("web1,db1");
    assertEquals(await keys.match("web*"), { minions: ["web1"], minions_pre: ["web2"] });
    assertEquals(await keys.match("db1, web2"), { minions: ["db1"], minions_pre: ["web2"] });
    assertEquals(await keys.match(["db?", "app*"]), {
      minions: ["db1"],
      minions_pre: ["db2"],
    });
    assertEquals(await keys.match("*"), {
      minions: ["db1", "web1"],
      minions_pre: ["App3", "db2", "web2"],
    });
    assertEquals(await keys.match({ minions_pre: ["web*", "db1"] }), { minions_pre: ["web2"] });
    assertEquals(await keys.match({ nonsense: ["*"] } as KeysByState), {});
    assertEquals(await keys.match("nosuch"), {});
    // A mapping limits the action to the states it names.
    assertEquals(await keys.delete({ minions: ["web2", "web1"] }), { minions: ["web1"] });
    assertEquals(await keys.state("web2"), "pending");
    assertEquals(await keys.accept({ minions_pre: ["web2"] }), { minions_pre: ["web2"] });
  });
});

Deno.test("finger: SHA-256 of the key text as colon-separated hex pairs", async () => {
  await withRegistry(async (keys) => {
    const pub1 = newKey(), pub2 = newKey();
    await keys.present("web1", pub1, MANUAL);
    await keys.present("web2", pub2, MANUAL);
    await keys.accept("web1");
    const prints = await keys.finger("web*");
    assertEquals(prints, {
      minions: { web1: await sha256Finger(pub1) },
      minions_pre: { web2: await sha256Finger(pub2) },
    });
    assert(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/.test(prints.minions!.web1));
    assertEquals(await keys.finger("nosuch"), {});
  });
});

Deno.test("invalid ids are refused with an error naming them", async () => {
  await withRegistry(async (keys, dir) => {
    for (const id of ["../evil", "a/b", "a\0b", "x..y", ".hidden", "", "a\\b"]) {
      assertEquals(validId(id), false, JSON.stringify(id));
      const err = await assertRejects(
        () => keys.present(id, newKey(), MANUAL),
        KeyRegistryError,
      );
      assert(err.message.includes(JSON.stringify(id)), err.message);
      await assertRejects(() => keys.state(id), KeyRegistryError);
      await assertRejects(() => keys.publicKey(id), KeyRegistryError);
    }
    assert(validId("web1.example.com"));
    assert(validId("web_1-a"));
    // Nothing was written anywhere.
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "minions",
      "minions_denied",
      "minions_pre",
      "minions_rejected",
    ]);
  });
});

Deno.test("bad public keys are refused", async () => {
  await withRegistry(async (keys) => {
    await assertRejects(() => keys.present("web1", "", MANUAL), KeyRegistryError, "web1");
    await assertRejects(() => keys.present("web1", "UA\nUB", MANUAL), KeyRegistryError);
    assertEquals(await keys.state("web1"), null);
  });
});

Deno.test("dot-files and directories in a state directory are not keys", async () => {
  await withRegistry(async (keys, dir) => {
    await Deno.writeTextFile(join(dir, "minions", ".web1.tmp"), "x\n");
    await Deno.mkdir(join(dir, "minions", "sub"));
    assertEquals((await keys.list()).minions, []);
    assertEquals(await keys.state("sub"), null);
  });
});

Deno.test("readAutosignFile skips comments and blank lines; a missing file has none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "autosign.conf");
    await Deno.writeTextFile(path, "# web servers\nweb*\n\n  db1  \n#db2\r\napp?\n");
    assertEquals(await readAutosignFile(path), ["web*", "db1", "app?"]);
    assertEquals(await readAutosignFile(join(dir, "missing")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pkiDirOf: pki_dir, or pki inside sock_dir", () => {
  assertEquals(pkiDirOf({ sock_dir: "/tmp/bus/master" }), "/tmp/bus/master/pki");
  assertEquals(pkiDirOf({ sock_dir: "/tmp/bus/master", pki_dir: "/srv/pki" }), "/srv/pki");
  let caught: unknown;
  try {
    pkiDirOf({ sock_dir: "/tmp/bus/master", pki_dir: 3 });
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof ConfigError);
});

Deno.test("two registries on one directory see each other's changes", async () => {
  await withRegistry(async (keys, dir) => {
    const other = await KeyRegistry.open(dir);
    const pub = newKey();
    await keys.present("web1", pub, MANUAL);
    assertEquals(await other.accept("web1"), { minions_pre: ["web1"] });
    assertEquals(await keys.present("web1", pub, MANUAL), { act: "accept", result: true });
  });
});
