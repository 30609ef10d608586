/**
 * Salt's CLI habits for jobs and runners, with a real master and two real
 * minions: `-v`, `--show-jid`, `--static`, `--out-file` (and
 * `--out-file-append`), `--out-indent`, `run … --out json`, and the usage
 * errors (exit 2).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSite } from "./daemons.ts";
import { collect, runCli, spawnCli } from "./harness.ts";

Deno.test("job and runner CLI habits: -v, --show-jid, --static, --out-file, --out-indent, run --out", async (t) => {
  await using site = await makeSite();
  const master = await site.master();
  try {
    for (const id of ["web1", "web2"]) {
      const minion = await site.minion(id);
      await minion.stderr.waitFor("connected to the master");
    }
    const job = (...args: string[]) => runCli([...args, "--sock-dir", site.masterDir]);

    await t.step("-v prints Salt's 'Executing job with jid' header first", async () => {
      const r = await job("web*", "test.ping", "-v");
      assert.equal(r.code, 0, r.stderr);
      const m = /^Executing job with jid (\d{20})\n-{43}\n\n/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.match(r.stdout, /web1:\n {4}True/);
      assert.match(r.stdout, /web2:\n {4}True/);
    });

    await t.step("--show-jid prints 'jid: <jid>' first", async () => {
      const r = await job("web1", "test.ping", "--show-jid");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^jid: \d{20}\nweb1:\n {4}True\n$/);
    });

    await t.step(
      "--static prints every return as one block; --out-indent sets json's indent",
      async () => {
        const r = await job("web*", "test.ping", "--static", "--out", "json", "--out-indent", "2");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), { web1: true, web2: true });
        assert.match(r.stdout, /^\{\n {2}"web[12]": true,\n {2}"web[12]": true\n\}\n$/);
      },
    );

    await t.step("--out-file writes there (truncating), --out-file-append appends", async () => {
      const file = join(site.workDir, "out.txt");
      await Deno.writeTextFile(file, "old\n");
      let r = await job("web1", "test.ping", "--out-file", file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(await Deno.readTextFile(file), "web1:\n    True\n");
      r = await job("web2", "test.ping", "--out-file", file, "--out-file-append");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await Deno.readTextFile(file), "web1:\n    True\nweb2:\n    True\n");
    });

    await t.step("run takes --out and --out-indent", async () => {
      const r = await job("run", "test.arg", "a", "b=1", "--out", "json", "--out-indent", "1");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { args: ["a"], kwargs: { b: 1 } });
      assert.match(r.stdout, /^\{\n "args"/);
    });

    await t.step(
      "Ctrl-C during a job prints Salt's message with the jid; the job stays findable",
      async () => {
        const child = spawnCli(["web1", "test.sleep", "1", "-v", "--sock-dir", site.masterDir]);
        const stdout = collect(child.stdout);
        const stderr = collect(child.stderr);
        await stdout.waitFor(/Executing job with jid \d{20}/);
        const jid = /jid (\d{20})/.exec(stdout.text)![1];
        child.kill("SIGINT");
        const status = await child.status;
        await stdout.done;
        await stderr.done;
        assert.equal(status.code, 1);
        assert.match(
          stderr.text,
          new RegExp(`Exiting gracefully on Ctrl-c\nThis job's jid is: ${jid}\n`),
        );
        assert.match(stderr.text, new RegExp(`cli\\.ts run jobs\\.lookup_jid ${jid}`));
        let found = "";
        for (let i = 0; i < 40 && !/web1:\n {4}True/.test(found); i++) {
          await new Promise((r) => setTimeout(r, 250));
          found = (await job("run", "jobs.lookup_jid", jid)).stdout;
        }
        assert.match(found, /web1:\n {4}True/);
      },
    );

    await t.step(
      "--force-color colours nested output as Salt; none by default off a terminal",
      async () => {
        const esc = String.fromCharCode(27);
        const ansi = new RegExp(`${esc}\\[[0-9;]*m`, "g");
        const plain = await job("web1", "test.ping");
        assert.ok(!plain.stdout.includes(esc), plain.stdout);
        const coloured = await job("web1", "test.ping", "--force-color");
        assert.equal(coloured.code, 0, coloured.stderr);
        assert.ok(coloured.stdout.includes(esc), coloured.stdout);
        assert.equal(coloured.stdout.replace(ansi, ""), plain.stdout);
        const both = await job("web1", "test.ping", "--force-color", "--no-color");
        assert.equal(both.code, 2);
      },
    );

    await t.step("bad values are usage errors (exit 2)", async () => {
      let r = await job("web1", "test.ping", "--out-indent", "x");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--out-indent must be a whole number >= 0, not 'x'/);
      r = await job("run", "test.arg", "--out", "bogus");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--out must be one of/);
    });

    await t.step("-b runs a sliding window of minions, as Salt's batch", async () => {
      const r = await job("web*", "test.sleep", "0.2", "-b", "1");
      assert.equal(r.code, 0, r.stderr);
      const one = r.stdout.indexOf("\nExecuting run on ['web1']\n");
      const two = r.stdout.indexOf("\nExecuting run on ['web2']\n");
      assert.ok(one >= 0 && two > one, r.stdout);
      assert.match(
        r.stdout.slice(one, two),
        /jid:\n {4}\d{20}\nretcode:\n {4}0\nweb1:\n {4}True\n/,
      );
      assert.match(r.stdout.slice(two), /jid:\n {4}\d{20}\nretcode:\n {4}0\nweb2:\n {4}True\n/);
      const jids = [...r.stdout.matchAll(/jid:\n {4}(\d{20})/g)].map((m) => m[1]);
      assert.equal(new Set(jids).size, 2, "one job per set");
      const all = await job("web*", "test.ping", "--batch-size", "100%");
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^\nExecuting run on \['web1', 'web2'\]\n\n/);
      const bad = await job("web*", "test.ping", "-b", "x");
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /Invalid batch data sent: x\nData must be in the form of %10, 10% or 3/,
      );
    });

    await t.step(
      "-b names a minion that does not answer the ping and sends it nothing",
      async () => {
        const web3 = await site.minion("web3");
        await web3.stderr.waitFor("connected to the master");
        await web3.stop();
        const r = await job("web*", "test.ping", "-b", "2");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Minion web3 did not respond\. No job will be sent\./);
        assert.match(r.stdout, /Executing run on \['web1', 'web2'\]/);
        assert.ok(!r.stdout.includes("web3:"), r.stdout);
      },
    );
  } finally {
    await master.stop();
  }
});
