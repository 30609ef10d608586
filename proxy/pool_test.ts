import assert from "node:assert/strict";
import { join } from "node:path";
import { captureLog } from "../tests/harness.ts";
import type { DeviceResult, ProxyJob } from "./device_runner.ts";
import { runPool } from "./pool.ts";

const JOB: ProxyJob = {
  fun: "test.ping",
  args: [],
  kwargs: {},
  timeoutMs: 5000,
  opts: {},
  proxyModuleDirs: [],
};

Deno.test("runPool hands every device to one Worker, one at a time, and ends", async () => {
  const devices = Array.from({ length: 7 }, (_, i) => [`sw${i}`, { proxytype: "dummy" }] as const);
  const results: DeviceResult[] = [];
  await runPool(devices, {
    job: JOB,
    workers: 1,
    devicesPerWorker: 1,
    logLevel: "warning",
    log: captureLog().log,
    onResult: (r) => results.push(r),
  });
  assert.deepEqual(results.map((r) => r.id).sort(), devices.map(([id]) => id));
  assert.ok(results.every((r) => r.success && r.return === true));
});

Deno.test("runPool with no devices resolves at once", async () => {
  await runPool([], {
    job: JOB,
    workers: 4,
    devicesPerWorker: 1,
    logLevel: "warning",
    log: captureLog().log,
    onResult: () => assert.fail("no device"),
  });
});

Deno.test("a device that blocks its Worker's thread times out; the pool replaces the Worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-pool-" });
  try {
    await Deno.writeTextFile(join(dir, "spin.ts"), "export function init() { while (true) {} }\n");
    const { log, lines } = captureLog();
    const results: DeviceResult[] = [];
    await runPool([["spin1", { proxytype: "spin" }], ["sw1", { proxytype: "dummy" }], [
      "sw2",
      { proxytype: "dummy" },
    ]], {
      job: { ...JOB, timeoutMs: 100, proxyModuleDirs: [dir] },
      workers: 1,
      devicesPerWorker: 1,
      graceMs: 200,
      logLevel: "warning",
      log,
      onResult: (r) => results.push(r),
    });
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    assert.deepEqual(byId.spin1, {
      id: "spin1",
      return: "Timed out after 0.1 s (its worker was stuck and was stopped)",
      retcode: 1,
      success: false,
      status: "timeout",
    });
    assert.equal(byId.sw1.success, true);
    assert.equal(byId.sw2.success, true);
    assert.ok(lines.some((l) => l.includes("a proxy worker did not answer")), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Worker log lines reach the pool's logger once each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-pool-" });
  try {
    await Deno.writeTextFile(
      join(dir, "chatty.ts"),
      'export function init() { this.log.warning("connecting the same way"); }\n',
    );
    const { log, lines } = captureLog();
    await runPool(
      Array.from({ length: 5 }, (_, i) => [`c${i}`, { proxytype: "chatty" }] as const),
      {
        job: { ...JOB, proxyModuleDirs: [dir] },
        workers: 1,
        devicesPerWorker: 2,
        logLevel: "warning",
        log,
        onResult: () => {},
      },
    );
    assert.deepEqual(lines, ["warning: connecting the same way"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPool rejects with ProxyRunError when aborted", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    runPool([["sw1", { proxytype: "dummy" }]], {
      job: JOB,
      workers: 1,
      devicesPerWorker: 1,
      logLevel: "warning",
      log: captureLog().log,
      onResult: () => {},
      signal: controller.signal,
    }),
    { name: "ProxyRunError", message: "the proxy run was aborted" },
  );
});
