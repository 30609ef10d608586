/**
 * `?format_events` with real minions: as salt-api's SaltInfo, the API asks
 * for `grains.items` on minions that a presence event shows for the first
 * time, and the returns fill in their grains.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { startMaster } from "../master/start_master.ts";
import { startMinion } from "../minion/minion_daemon.ts";
import { loadModules } from "../modules/loader.ts";
import { login, startTestApi, until } from "./api_harness.ts";
import { captureLog, startTestBus } from "./harness.ts";

Deno.test("?format_events: a new minion gets a grains.items job and its grains in the minions aggregate", async () => {
  await using t = await startTestBus({ config: { presence_events: true, loop_interval: 0.2 } });
  await using _master = await startMaster({ config: t.config, bus: t.bus, log: captureLog().log });
  await using api = await startTestApi(t);
  const token = await login(api);
  const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}ws/${token}?format_events`);
  const messages: Record<string, unknown>[] = [];
  ws.onmessage = (e) => {
    if (e.data !== "server received message") messages.push(JSON.parse(e.data));
  };
  const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send("websocket client ready");
  await until("the socket streaming", () => api.hub.clients === 1);

  const minionDir = await Deno.makeTempDir();
  const config = resolveConfig("minion", {
    id: "p1",
    sock_dir: minionDir,
    master_sock_dir: t.sockDir,
    grains: { role: "web" },
  });
  await using loader = await loadModules({ opts: config, log: captureLog().log });
  const minion = await startMinion({ config, loader, log: captureLog().log });
  try {
    // deno-lint-ignore no-explicit-any
    const grainsOf = (m: Record<string, any>) => m.minions?.p1?.grains;
    await until("p1's grains in a minions message", () => messages.some((m) => grainsOf(m)));
    // deno-lint-ignore no-explicit-any
    const grains = grainsOf(messages.find((m) => grainsOf(m))!) as Record<string, any>;
    assert.equal(grains.role, "web");
    assert.equal(grains.id, "p1");
    assert.equal(grains.kernelrelease, Deno.osRelease());
    const job = messages.find((m) => m.jobs !== undefined) as {
      jobs: Record<string, { fun: string; tgt: unknown }>;
    };
    assert.deepEqual(Object.values(job.jobs).map((j) => [j.fun, j.tgt]), [["grains.items", [
      "p1",
    ]]]);
  } finally {
    ws.close();
    await closed;
    await minion.close();
    await Deno.remove(minionDir, { recursive: true });
  }
});
