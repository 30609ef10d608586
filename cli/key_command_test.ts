import assert from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createUser } from "npm:@nats-io/nkeys@2.0.3";
import { resolveConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { KeyRegistry } from "../link/key_registry.ts";
import { formatKeys, KEY_OPTIONS, runKeyCommand } from "./key_command.ts";
import type { Values } from "./exit_codes.ts";

const MANUAL = { autoAccept: false, autosign: [] as string[] };

interface Run {
  code: number;
  out: string;
  prompts: number;
}

interface Env {
  dir: string;
  keys: KeyRegistry;
  /** Runs `cli.ts key <args>`, answering each prompt with the next of `answers`. */
  key(args: string[], answers?: (string | null)[]): Promise<Run>;
}

async function withPki(fn: (env: Env) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "saltbus_keycmd_" });
  try {
    const dir = join(tmp, "pki");
    const config = resolveConfig("master", { sock_dir: join(tmp, "master"), pki_dir: dir });
    const keys = await KeyRegistry.open(dir);
    const key = async (args: string[], answers: (string | null)[] = []): Promise<Run> => {
      const { values, positionals } = parseArgs({
        args,
        options: KEY_OPTIONS,
        allowPositionals: true,
        strict: true,
      });
      let out = "";
      let prompts = 0;
      const code = await runKeyCommand(values as Values, positionals, config, {
        stdout: (s) => (out += s),
        stdin: () => {
          prompts++;
          assert.ok(answers.length > 0, "unexpected prompt");
          return Promise.resolve(answers.shift()!);
        },
      });
      return { code, out, prompts };
    };
    await fn({ dir, keys, key });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function seed(keys: KeyRegistry, pending: string[], accepted: string[] = []) {
  const pubs: Record<string, string> = {};
  for (const id of [...pending, ...accepted]) {
    pubs[id] = createUser().getPublicKey();
    await keys.present(id, pubs[id], MANUAL);
  }
  if (accepted.length > 0) await keys.accept(accepted);
  return pubs;
}

Deno.test("key with no action lists every key in salt-key's order", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web2", "web3"], ["web1", "db1"]);
    await keys.reject("web3");
    const expected = "Accepted Keys:\ndb1\nweb1\nDenied Keys:\nUnaccepted Keys:\nweb2\n" +
      "Rejected Keys:\nweb3\n";
    assert.deepStrictEqual(await key([]), { code: 0, out: expected, prompts: 0 });
    assert.deepStrictEqual(await key(["-L"]), { code: 0, out: expected, prompts: 0 });
    assert.equal(
      (await key(["--list-all"])).out,
      expected,
    );
  });
});

Deno.test("key -L on an empty pki_dir creates it and prints the four headings", async () => {
  await withPki(async ({ dir, key }) => {
    await Deno.remove(dir, { recursive: true });
    const run = await key(["-L"]);
    assert.equal(run.out, "Accepted Keys:\nDenied Keys:\nUnaccepted Keys:\nRejected Keys:\n");
    assert.equal((await Deno.stat(join(dir, "minions_pre"))).mode! & 0o777, 0o700);
  });
});

Deno.test("key -L --out json prints the four states", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web2"], ["web1"]);
    const run = await key(["-L", "--out", "json"]);
    assert.equal(run.code, 0);
    assert.deepStrictEqual(JSON.parse(run.out), {
      minions: ["web1"],
      minions_pre: ["web2"],
      minions_rejected: [],
      minions_denied: [],
    });
    assert.ok(run.out.startsWith('{\n    "minions": [\n'), run.out);
  });
});

Deno.test("key -a asks, and Y (or just Enter) accepts", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1", "web2", "db1"]);
    const run = await key(["-a", "web1"], ["Y"]);
    assert.deepStrictEqual(run, {
      code: 0,
      out: "The following keys are going to be accepted:\nUnaccepted Keys:\nweb1\n" +
        "Proceed? [n/Y] Key for minion web1 accepted.\n",
      prompts: 1,
    });
    assert.equal(await keys.state("web1"), "accepted");
    const enter = await key(["--accept", "web*"], [""]);
    assert.ok(enter.out.endsWith("Key for minion web2 accepted.\n"), enter.out);
    assert.equal(await keys.state("web2"), "accepted");
    assert.equal(await keys.state("db1"), "pending");
  });
});

Deno.test("key -a answered n changes nothing", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1"]);
    const run = await key(["-a", "web1"], ["n"]);
    assert.deepStrictEqual(run, {
      code: 0,
      out: "The following keys are going to be accepted:\nUnaccepted Keys:\nweb1\n" +
        "Proceed? [n/Y] ",
      prompts: 1,
    });
    assert.equal(await keys.state("web1"), "pending");
    // End of input is not a yes either.
    const eof = await key(["-a", "web1"], [null]);
    assert.ok(eof.out.endsWith("Proceed? [n/Y] \n"));
    assert.equal(await keys.state("web1"), "pending");
  });
});

Deno.test("key -A -y accepts every pending key without asking", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1", "web2"], ["db1"]);
    const run = await key(["-A", "-y"]);
    assert.deepStrictEqual(run, {
      code: 0,
      out: "The following keys are going to be accepted:\nUnaccepted Keys:\nweb1\nweb2\n" +
        "Key for minion web1 accepted.\nKey for minion web2 accepted.\n",
      prompts: 0,
    });
    assert.deepStrictEqual((await keys.list()).minions, ["db1", "web1", "web2"]);
    const again = await key(["-A", "--yes"]);
    assert.equal(again.out, "The key glob '*' does not match any unaccepted keys.\n");
    assert.equal(again.code, 0);
  });
});

Deno.test("key -a with a glob that matches nothing says so and exits 0", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, [], ["web1"]);
    const run = await key(["-a", "web1"]);
    assert.deepStrictEqual(run, {
      code: 0,
      out: "The key glob 'web1' does not match any unaccepted keys.\n",
      prompts: 0,
    });
    const inc = await key(["-a", "nosuch", "--include-rejected", "--include-denied"]);
    assert.equal(
      inc.out,
      "The key glob 'nosuch' does not match any unaccepted, rejected or denied keys.\n",
    );
  });
});

Deno.test("key -a --include-rejected / --include-denied accept those states too", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1", "web2"], ["web3"]);
    await keys.reject("web1");
    await keys.present("web3", createUser().getPublicKey(), MANUAL); // denied
    const plain = await key(["-a", "web*", "-y"]);
    assert.ok(plain.out.includes("Key for minion web2 accepted.\n"));
    assert.ok(!plain.out.includes("web1"));
    assert.equal(await keys.state("web1"), "rejected");
    const rej = await key(["-a", "web1", "-y", "--include-rejected"]);
    assert.equal(
      rej.out,
      "The following keys are going to be accepted:\nRejected Keys:\nweb1\n" +
        "Key for minion web1 accepted.\n",
    );
    assert.equal(await keys.state("web1"), "accepted");
    const den = await key(["-a", "web3", "-y", "--include-denied"]);
    assert.equal(
      den.out,
      "The following keys are going to be accepted:\nDenied Keys:\nweb3\n" +
        "Key for minion web3 accepted.\n",
    );
    assert.deepStrictEqual((await keys.list()).minions_denied, []);
  });
});

Deno.test("key -r rejects pending keys; accepted ones only with --include-accepted", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1"], ["web2"]);
    const run = await key(["-r", "web*"], ["y"]);
    assert.equal(
      run.out,
      "The following keys are going to be rejected:\nUnaccepted Keys:\nweb1\n" +
        "Proceed? [n/Y] Key for minion web1 rejected.\n",
    );
    assert.equal(await keys.state("web2"), "accepted");
    const acc = await key(["--reject", "web2", "--include-accepted", "-y"]);
    assert.equal(
      acc.out,
      "The following keys are going to be rejected:\nAccepted Keys:\nweb2\n" +
        "Key for minion web2 rejected.\n",
    );
    assert.equal(await keys.state("web2"), "rejected");
    const none = await key(["-r", "web2"]);
    assert.equal(none.out, "The key glob 'web2' does not match any unaccepted keys.\n");
  });
});

Deno.test("key -R rejects every pending key", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web1", "web2"], ["db1"]);
    const run = await key(["-R"], ["Y"]);
    assert.ok(run.out.endsWith("Key for minion web1 rejected.\nKey for minion web2 rejected.\n"));
    assert.deepStrictEqual(await keys.list(), {
      minions: ["db1"],
      minions_pre: [],
      minions_rejected: ["web1", "web2"],
      minions_denied: [],
    });
  });
});

Deno.test("key -d asks [N/y]: Enter keeps the keys, y deletes them in every state", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web2"], ["web1"]);
    const keep = await key(["-d", "web*"], [""]);
    assert.equal(
      keep.out,
      "The following keys are going to be deleted:\nAccepted Keys:\nweb1\nUnaccepted Keys:\nweb2\n" +
        "Proceed? [N/y] ",
    );
    assert.equal(await keys.state("web1"), "accepted");
    const del = await key(["--delete", "web*"], ["y"]);
    assert.ok(
      del.out.endsWith(
        "Proceed? [N/y] Key for minion web1 deleted.\nKey for minion web2 deleted.\n",
      ),
      del.out,
    );
    assert.equal(await keys.state("web1"), null);
    assert.equal(await keys.state("web2"), null);
  });
});

Deno.test("key -D -y deletes every key", async () => {
  await withPki(async ({ keys, key }) => {
    await seed(keys, ["web2"], ["web1"]);
    await keys.reject("web2");
    const run = await key(["-D", "-y"]);
    assert.equal(
      run.out,
      "The following keys are going to be deleted:\nAccepted Keys:\nweb1\nRejected Keys:\nweb2\n" +
        "Key for minion web1 deleted.\nKey for minion web2 deleted.\n",
    );
    assert.deepStrictEqual(Object.values(await keys.list()).flat(), []);
    assert.equal(
      (await key(["-D", "-y"])).out,
      "The key glob '*' does not match any unaccepted keys.\n",
    );
  });
});

Deno.test("key -f / -F print SHA-256 fingerprints", async () => {
  await withPki(async ({ keys, key }) => {
    const pubs = await seed(keys, ["web2"], ["web1"]);
    const finger = async (text: string) =>
      [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))]
        .map((b) => b.toString(16).padStart(2, "0")).join(":");
    const f1 = await finger(pubs.web1), f2 = await finger(pubs.web2);
    assert.equal((await key(["-f", "web1"])).out, `Accepted Keys:\nweb1:  ${f1}\n`);
    assert.equal(
      (await key(["-F"])).out,
      `Accepted Keys:\nweb1:  ${f1}\nDenied Keys:\nUnaccepted Keys:\nweb2:  ${f2}\n` +
        "Rejected Keys:\n",
    );
    const json = JSON.parse((await key(["--finger", "web*", "--out", "json"])).out);
    assert.deepStrictEqual(json, { minions: { web1: f1 }, minions_pre: { web2: f2 } });
    assert.equal((await key(["-f", "nosuch"])).out, "");
  });
});

Deno.test("key usage errors: two actions, an empty glob, arguments, a bad --out", async () => {
  await withPki(async ({ key }) => {
    for (
      const [args, words] of [
        [["-a", "web1", "-d", "web2"], "--accept and --delete"],
        [["-A", "-R"], "--accept-all and --reject-all"],
        [["-L", "-F"], "--finger-all and --list-all"],
        [["-a", ""], "--accept needs a minion id"],
        [["web1"], "no arguments"],
        [["-L", "--out", "xml"], "--out must be one of key"],
      ] as const
    ) {
      await assert.rejects(
        () => key([...args]),
        (err: unknown) => err instanceof UsageError && err.message.includes(words),
        args.join(" "),
      );
    }
    // A flag without its id is parseArgs's own error (the caller turns it into a usage error).
    await assert.rejects(() => key(["-a"]), TypeError);
  });
});

Deno.test("formatKeys leaves out the states it is not given", () => {
  assert.equal(
    formatKeys({ minions_pre: ["a"], minions: [] }),
    "Accepted Keys:\nUnaccepted Keys:\na\n",
  );
  assert.equal(formatKeys({}), "");
});

Deno.test("key reads its answer from real standard input", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "saltbus_keycmd_" });
  try {
    const dir = join(tmp, "pki");
    const keys = await KeyRegistry.open(dir);
    await keys.present("web1", createUser().getPublicKey(), MANUAL);
    const script = `
      import { runKeyCommand } from ${
      JSON.stringify(new URL("./key_command.ts", import.meta.url).href)
    };
      import { resolveConfig } from ${
      JSON.stringify(new URL("../bus/config.ts", import.meta.url).href)
    };
      const config = resolveConfig("master", { sock_dir: ${JSON.stringify(tmp)}, pki_dir: ${
      JSON.stringify(dir)
    } });
      Deno.exit(await runKeyCommand({ accept: "web1" }, [], config));
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("y\n"));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(
      out,
      "The following keys are going to be accepted:\nUnaccepted Keys:\nweb1\n" +
        "Proceed? [n/Y] Key for minion web1 accepted.\n",
    );
    assert.equal(await keys.state("web1"), "accepted");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
