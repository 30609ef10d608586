/**
 * Returners with real processes: `--return` on jobs (a custom returner from
 * `returner_dirs`, the built-in sqlite in the minion's cachedir, an unknown
 * name), `ext_job_cache`, `event_return` into a custom returner, and a
 * custom returner module that fails to load.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { publishRet } from "../master/job_publisher.ts";
import { returnerNames } from "../minion/job_returners.ts";
import { SQLITE_FILE } from "../returners/sqlite.ts";
import { type Daemon, makeSite, type Site, startDaemon } from "./daemons.ts";
import { collect, runCli, sleep, spawnCli } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

/** A custom returner (factory style) appending each call as a JSON line to `returner.custom.path`. */
const CUSTOM = `
export async function open(opts) {
  const path = opts["returner.custom.path"];
  const write = (fn, args) =>
    Deno.writeTextFile(path, JSON.stringify({ node: opts.node, fn, args }) + "\\n", { append: true });
  return {
    returner: (ret) => write("returner", [ret]),
    save_load: (jid, load, minions) => write("save_load", [jid, load, minions]),
    event_return: (events) => write("event_return", [events]),
  };
}
`;

/** A custom returner (plain exports, Salt's `<name>_return` file name) writing beside itself. */
const PLAIN = `
export async function returner(ret) {
  await Deno.writeTextFile(new URL("./plain.jsonl", import.meta.url), JSON.stringify(ret) + "\\n", { append: true });
}
`;

interface ReturnerSite extends AsyncDisposable {
  site: Site;
  masterConfig: string;
  masterCache: string;
  masterLines: string;
  minionCache: string;
  minionLines: string;
  master(): Promise<Daemon>;
  minion(id: string): Promise<Daemon>;
}

async function returnerSite(masterExtra = "", minionExtra = ""): Promise<ReturnerSite> {
  const site = await makeSite();
  const w = site.workDir;
  await Deno.mkdir(`${w}/returners`);
  await Deno.writeTextFile(`${w}/returners/custom.ts`, CUSTOM);
  await Deno.writeTextFile(`${w}/returners/plain_return.ts`, PLAIN);
  const t = {
    site,
    masterConfig: `${w}/master.yaml`,
    masterCache: `${w}/master-cache`,
    masterLines: `${w}/master.jsonl`,
    minionCache: `${w}/minion-cache`,
    minionLines: `${w}/minion.jsonl`,
  };
  await Deno.writeTextFile(
    t.masterConfig,
    `cachedir: ${t.masterCache}\nreturner_dirs: [${w}/returners]\n` +
      `returner.custom.path: ${t.masterLines}\n${masterExtra}`,
  );
  await Deno.writeTextFile(
    `${w}/minion.yaml`,
    `cachedir: ${t.minionCache}\nreturner_dirs: [${w}/returners]\n` +
      `returner.custom.path: ${t.minionLines}\n${minionExtra}`,
  );
  const daemons: Daemon[] = [];
  return {
    ...t,
    async master() {
      const d = await startDaemon(
        ["master", "--config", t.masterConfig, "--sock-dir", site.masterDir],
        "master bus ready",
      );
      daemons.push(d);
      return d;
    },
    async minion(id: string) {
      const d = await startDaemon(
        ["minion", "--config", `${w}/minion.yaml`, ...site.minionFlags(id)],
        "connected to the master",
      );
      daemons.push(d);
      return d;
    },
    async [Symbol.asyncDispose]() {
      for (const d of daemons.reverse()) await d.stop();
      await site[Symbol.asyncDispose]();
    },
  };
}

function cli(t: ReturnerSite, args: string[]) {
  return runCli([...args, "--config", t.masterConfig, "--sock-dir", t.site.masterDir]);
}

/** The JSON lines of `path` once `until` holds for them (10 s at most). */
async function linesUntil(
  path: string,
  until: (lines: AnyRecord[]) => boolean,
): Promise<AnyRecord[]> {
  let lines: AnyRecord[] = [];
  for (let i = 0; i < 40; i++) {
    try {
      lines = (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (until(lines)) return lines;
    await sleep(250);
  }
  assert.fail(`${path} never held the expected lines: ${JSON.stringify(lines)}`);
}

/** Rows of `sql` in the sqlite store of `cachedir`. */
function rows(cachedir: string, sql: string, ...params: string[]): AnyRecord[] {
  const db = new DatabaseSync(`${cachedir}/${SQLITE_FILE}`, { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as AnyRecord[];
  } finally {
    db.close();
  }
}

async function job(t: ReturnerSite, args: string[]): Promise<string> {
  const result = await cli(t, args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Rows of `sql` once there are some (10 s at most; the store writes in batches). */
async function rowsUntil(cachedir: string, sql: string, ...params: string[]) {
  let found: AnyRecord[] = [];
  for (let i = 0; i < 40 && found.length === 0; i++) {
    try {
      found = rows(cachedir, sql, ...params);
    } catch {
      // the store is not created yet
    }
    if (found.length === 0) await sleep(250);
  }
  return found;
}

/** Runs `cli.ts <args>`, killed after 30 s; resolves its exit code and standard error. */
async function runBounded(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = spawnCli(args);
  const stderr = collect(child.stderr);
  const stdout = collect(child.stdout);
  const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
  const status = await child.status;
  clearTimeout(timer);
  await stdout.done;
  await stderr.done;
  return { code: status.code, stderr: stderr.text };
}

Deno.test("--return custom / sqlite from a real minion stores the return there; an unknown name is logged", async () => {
  const t = await returnerSite();
  await using _t = t;
  await t.master();
  const minion = await t.minion("web1");

  assert.equal(await job(t, ["web1", "test.ping", "--return", "custom"]), "web1:\n    True\n");
  const [line] = await linesUntil(t.minionLines, (l) => l.length >= 1);
  const jid = line.args[0].jid;
  assert.equal(line.node, "minion");
  assert.equal(line.fn, "returner");
  const { cmd, ...expected } = {
    cmd: "_return",
    id: "web1",
    jid,
    fun: "test.ping",
    fun_args: [],
    return: true,
    retcode: 0,
    success: true,
  };
  assert.equal(cmd, "_return");
  assert.deepEqual(line.args, [expected]);
  // The master job cache still has the return (no ext_job_cache).
  const stored = await rowsUntil(t.masterCache, "SELECT id FROM salt_returns WHERE jid = ?", jid);
  assert.deepEqual(stored.map((r) => r.id), ["web1"]);

  // An unknown returner: logged by the minion, the master return still arrives.
  assert.equal(await job(t, ["web1", "test.ping", "--return", "nope"]), "web1:\n    True\n");
  await minion.stderr.waitFor(
    /Returner nope\.returner could not be loaded: .*"nope" is not available/,
  );

  // The built-in sqlite, in the minion's own cachedir; two names at once.
  assert.equal(
    await job(t, ["web1", "test.echo", "hi", "--return", "sqlite,custom"]),
    "web1:\n    hi\n",
  );
  const lines = await linesUntil(
    t.minionLines,
    (l) => l.some((x) => x.args[0].fun === "test.echo"),
  );
  const echoJid = lines.find((x) => x.args[0].fun === "test.echo")!.args[0].jid;
  const minionRows = await rowsUntil(
    t.minionCache,
    "SELECT * FROM salt_returns WHERE jid = ?",
    echoJid,
  );
  assert.equal(minionRows.length, 1);
  assert.equal(minionRows[0].id, "web1");
  assert.equal(minionRows[0].fun, "test.echo");
  assert.equal(JSON.parse(minionRows[0].full_ret).return, "hi");

  // A plain-exports module named plain_return.ts is returner "plain".
  assert.equal(await job(t, ["web1", "test.echo", "p", "--return", "plain"]), "web1:\n    p\n");
  const [plain] = await linesUntil(`${t.site.workDir}/returners/plain.jsonl`, (l) => l.length > 0);
  assert.equal(plain.return, "p");
  assert.equal(plain.id, "web1");

  // The minion still runs jobs, and a bad --return is refused by the CLI.
  assert.equal(await job(t, ["web1", "test.ping"]), "web1:\n    True\n");
  const bad = await cli(t, ["web1", "test.ping", "--return", "a,,b"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--return needs returner names/);
});

Deno.test("ext_job_cache: custom gets the loads (with the master cache) and every return, the master cache none", async () => {
  const t = await returnerSite("ext_job_cache: custom\n");
  await using _t = t;
  await t.master();
  await t.minion("web1");
  assert.equal(await job(t, ["web1", "test.ping"]), "web1:\n    True\n");
  const [load] = await linesUntil(t.masterLines, (l) => l.length >= 1);
  const jid = load.args[0];
  assert.equal(load.node, "master");
  assert.equal(load.fn, "save_load");
  assert.equal(load.args[0], jid);
  assert.equal(load.args[1].fun, "test.ping");
  assert.deepEqual(load.args[2], ["web1"]);
  const [ret] = await linesUntil(t.minionLines, (l) => l.length >= 1);
  assert.equal(ret.fn, "returner");
  assert.equal(ret.args[0].jid, jid);
  assert.equal(ret.args[0].return, true);
  // master_job_cache has the load, not the return (Salt's store_job returns early).
  const loads = await rowsUntil(t.masterCache, "SELECT load FROM jids WHERE jid = ?", jid);
  assert.equal(JSON.parse(loads[0].load).fun, "test.ping");
  await sleep(500); // a return written late would show now
  assert.deepEqual(rows(t.masterCache, "SELECT id FROM salt_returns WHERE jid = ?", jid), []);
  // As in Salt, jobs.lookup_jid reads ext_job_cache, which has no get_load here.
  const lookup = await cli(t, ["run", "jobs.lookup_jid", jid]);
  assert.notEqual(lookup.code, 0);
  assert.match(lookup.stderr + lookup.stdout, /returner custom: has no get_load/);
});

Deno.test("event_return: custom receives the master's events", async () => {
  const t = await returnerSite("event_return: custom\n");
  await using _t = t;
  await t.master();
  const bus = await t.site.masterBus();
  await bus.fireEvent({ hello: "returners" }, "my/test/event");
  const lines = await linesUntil(
    t.masterLines,
    (l) =>
      l.some((x) =>
        x.fn === "event_return" && x.args[0].some((e: AnyRecord) => e.tag === "my/test/event")
      ),
  );
  const event = lines.flatMap((x) => x.fn === "event_return" ? x.args[0] : [])
    .find((e: AnyRecord) => e.tag === "my/test/event");
  assert.equal(event.data.hello, "returners");
});

Deno.test("a custom returner module that fails to load stops the master, naming the option and the file", async () => {
  for (
    const [option, source, lacks] of [
      ["master_job_cache", "export const x = ;"],
      ["event_return", "throw new Error('no database here');"],
      ["ext_job_cache", "export const nothing = 1;"],
      ["event_return", "export function returner() {}", "has no event_return"],
      ["master_job_cache", "export function event_return() {}", "has no save_load, returner"],
    ]
  ) {
    await using site = await makeSite();
    const file = `${site.workDir}/broken_return.ts`;
    await Deno.writeTextFile(file, source);
    const config = `${site.workDir}/master.yaml`;
    await Deno.writeTextFile(
      config,
      `cachedir: ${site.workDir}/cache\nreturner_dirs: [${site.workDir}]\n${option}: broken\n`,
    );
    const result = await runBounded(["master", "--config", config, "--sock-dir", site.masterDir]);
    assert.notEqual(result.code, 0, `${option}: the master started`);
    assert.ok(
      result.stderr.includes(
        lacks === undefined
          ? `${option}: custom returner 'broken' (returner_dirs) failed to load from ${file}`
          : `${option}: custom returner 'broken' (returner_dirs, ${file}) ${lacks}`,
      ),
      `${option}: ${result.stderr}`,
    );
  }
});

Deno.test("the publication's ret is --return then ext_job_cache, as Salt's _prep_pub", () => {
  assert.equal(publishRet(undefined, ""), "");
  assert.equal(publishRet("", "mysql"), "mysql");
  assert.equal(publishRet("postgres", "mysql"), "postgres,mysql");
  assert.equal(publishRet("a,b", undefined), "a,b");
  assert.throws(() => publishRet(["a"], ""), /ret must be returner names/);
  assert.deepEqual(returnerNames(" sqlite,custom,,sqlite "), ["sqlite", "custom"]);
});

Deno.test("the minion's own return option sends every job's return to that returner", async () => {
  const t = await returnerSite("", "return: custom\n");
  await using _t = t;
  await t.master();
  await t.minion("web1");
  assert.equal(await job(t, ["web1", "test.echo", "own"]), "web1:\n    own\n");
  const [line] = await linesUntil(t.minionLines, (l) => l.length > 0);
  assert.equal(line.fn, "returner");
  assert.equal(line.args[0].return, "own");
});
