import assert from "node:assert/strict";
import { join } from "node:path";
import { checkPrivateDir, checkPrivateFile, UnsafePathError } from "./private_path.ts";
import { BrokerStartError } from "../bus/errors.ts";

const ROOT = Deno.uid() === 0;
const OTHER_UID = 4242; // any uid but ours: only root can give a file to it
if (!ROOT) console.log("private_path_test: not root, skipping the tests that chown to another uid");

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-private-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function refused(path: string, problem: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UnsafePathError, `got ${err}`);
    assert.ok(err instanceof BrokerStartError);
    assert.equal(err.path, path);
    assert.match(err.problem, problem);
    assert.ok(err.message.includes(path), err.message);
    return true;
  };
}

Deno.test("checkPrivateDir creates each missing directory 0700 and resolves the path", async () => {
  await withTemp(async (dir) => {
    const target = join(dir, "saltbus-1", "master");
    assert.equal(await checkPrivateDir(target, { create: true }), target);
    assert.equal((await Deno.stat(join(dir, "saltbus-1"))).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(target)).mode! & 0o777, 0o700);
  });
});

Deno.test("checkPrivateDir refuses a sock_dir writable by group or others, and says how to fix it", async () => {
  await withTemp(async (dir) => {
    await Deno.chmod(dir, 0o777);
    await assert.rejects(
      checkPrivateDir(dir),
      refused(dir, /^is writable by group and others \(mode 0777\)$/),
    );
    await Deno.chmod(dir, 0o720);
    await assert.rejects(checkPrivateDir(dir), (err: unknown) => {
      assert.ok(err instanceof UnsafePathError);
      assert.match(err.message, /is writable by group \(mode 0720\); run 'chmod go-w /);
      return true;
    });
    // Group read and search (for the pub socket's 0660 group access) are fine.
    await Deno.chmod(dir, 0o750);
    await checkPrivateDir(dir);
  });
});

Deno.test("checkPrivateDir refuses to create a sock_dir inside a directory others can write without the sticky bit", async () => {
  await withTemp(async (dir) => {
    const shared = join(dir, "shared");
    await Deno.mkdir(shared);
    await Deno.chmod(shared, 0o777);
    const target = join(shared, "master");
    await assert.rejects(
      checkPrivateDir(target, { create: true }),
      refused(shared, /without the sticky bit \(mode 0777\)/),
    );
    await assert.rejects(Deno.lstat(target), Deno.errors.NotFound); // nothing made inside
    // With the sticky bit (as /tmp has), others cannot rename or remove what is ours.
    await Deno.chmod(shared, 0o1777);
    await checkPrivateDir(target, { create: true });
  });
});

Deno.test({
  name: "checkPrivateDir refuses a sock_dir, or a directory above it, owned by another uid",
  ignore: !ROOT,
  fn: async () => {
    await withTemp(async (dir) => {
      const above = join(dir, "saltbus-0");
      const target = join(above, "master");
      await Deno.mkdir(target, { recursive: true, mode: 0o700 });
      await Deno.chown(target, OTHER_UID, OTHER_UID);
      await assert.rejects(
        checkPrivateDir(target, { create: true }),
        refused(target, new RegExp(`^is owned by uid ${OTHER_UID}, not by uid 0`)),
      );
      await Deno.chown(target, 0, 0);
      await Deno.chown(above, OTHER_UID, OTHER_UID);
      await assert.rejects(
        checkPrivateDir(target, { create: true }),
        refused(above, new RegExp(`^is owned by uid ${OTHER_UID} \\(neither uid 0`)),
      );
    });
  },
});

Deno.test("checkPrivateDir follows a symbolic link and checks where it leads", async () => {
  await withTemp(async (dir) => {
    const real = join(dir, "real");
    await Deno.mkdir(real, { mode: 0o700 });
    const link = join(dir, "link");
    await Deno.symlink(real, link);
    assert.equal(await checkPrivateDir(link), real);
    await Deno.chmod(real, 0o777);
    await assert.rejects(checkPrivateDir(link), refused(real, /^is writable by group and others/));
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(checkPrivateDir(file), refused(file, /^exists and is not a directory$/));
  });
});

Deno.test("checkPrivateFile passes an owner-only file, says false for a missing one, and drops read bits", async () => {
  await withTemp(async (dir) => {
    const file = join(dir, "api_tokens.json");
    assert.equal(await checkPrivateFile(file), false);
    await Deno.writeTextFile(file, "[]", { mode: 0o600 });
    assert.equal(await checkPrivateFile(file), true);
    await Deno.chmod(file, 0o644);
    assert.equal(await checkPrivateFile(file), true);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  });
});

Deno.test("checkPrivateFile refuses a file group or others can write, and a symbolic link", async () => {
  await withTemp(async (dir) => {
    const file = join(dir, "api_tokens.json");
    await Deno.writeTextFile(file, "[]");
    await Deno.chmod(file, 0o666);
    await assert.rejects(
      checkPrivateFile(file),
      refused(file, /^is writable by group and others \(mode 0666\)$/),
    );
    const link = join(dir, "link.json");
    await Deno.chmod(file, 0o600);
    await Deno.symlink(file, link);
    await assert.rejects(checkPrivateFile(link), refused(link, /^is a symbolic link$/));
  });
});

Deno.test({
  name: "checkPrivateFile refuses a file another uid owns, and one in a directory another uid owns",
  ignore: !ROOT,
  fn: async () => {
    await withTemp(async (dir) => {
      const file = join(dir, "api_tokens.json");
      await Deno.writeTextFile(file, "[]", { mode: 0o600 });
      await Deno.chown(file, OTHER_UID, OTHER_UID);
      await assert.rejects(
        checkPrivateFile(file),
        refused(file, new RegExp(`^is owned by uid ${OTHER_UID}, not by uid 0`)),
      );
      await Deno.chown(file, 0, 0);
      await Deno.chown(dir, OTHER_UID, OTHER_UID);
      await assert.rejects(checkPrivateFile(file), refused(dir, /^is owned by uid 4242/));
      await Deno.chown(dir, 0, 0);
    });
  },
});
