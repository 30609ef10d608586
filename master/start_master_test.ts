import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { captureLog } from "../tests/harness.ts";
import { defaultMasterComponents } from "./components.ts";
import type { MasterComponent } from "./master_context.ts";
import { startMaster } from "./start_master.ts";

function recorder(name: string, events: string[], fail = false): MasterComponent {
  return {
    name,
    start(ctx) {
      if (fail) throw new Error(`${name} cannot start`);
      events.push(`start ${name} ${ctx.config.node}`);
    },
    close() {
      events.push(`close ${name}`);
    },
  };
}

Deno.test("startMaster() starts its components in order over one context and closes them in reverse", async () => {
  const sockDir = await Deno.makeTempDir();
  const events: string[] = [];
  try {
    const master = await startMaster({
      config: resolveConfig("master", { sock_dir: sockDir }),
      log: captureLog().log,
      components: [...defaultMasterComponents(), recorder("a", events), recorder("b", events)],
    });
    assert.deepEqual(events, ["start a master", "start b master"]);
    assert.deepEqual(master.minions.minions, []);
    assert.equal(await master.events.fireEvent({ x: 1 }, "t/x"), true);
    await master.close();
    assert.deepEqual(events.slice(2), ["close b", "close a"]);
    assert.deepEqual(await socketFilesIn(sockDir), [], "no socket or lock files after close");
  } finally {
    await Deno.remove(sockDir, { recursive: true });
  }
});

Deno.test("a component that fails to start closes those before it and the bus, and the error is thrown", async () => {
  const sockDir = await Deno.makeTempDir();
  const events: string[] = [];
  try {
    await assert.rejects(
      startMaster({
        config: resolveConfig("master", { sock_dir: sockDir }),
        log: captureLog().log,
        components: [recorder("a", events), recorder("broken", events, true)],
      }),
      /broken cannot start/,
    );
    assert.deepEqual(events, ["start a master", "close a"]);
    assert.deepEqual(await socketFilesIn(sockDir), []);
  } finally {
    await Deno.remove(sockDir, { recursive: true });
  }
});

/** The socket and lock files in `dir` (the job cache's `cache/` directory stays, by design). */
async function socketFilesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name !== "cache") names.push(entry.name);
  }
  return names;
}
