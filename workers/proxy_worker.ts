/**
 * A proxy Worker: runs a proxy run's devices with one
 * {@linkcode DeviceRunner}, as many at once as the main thread hands out,
 * and posts each {@linkcode DeviceResult} back. Log lines go to the main
 * thread, which prints each distinct line once. Speaks
 * {@linkcode ProxyWorkerCommand} and {@linkcode ProxyWorkerReport}; started
 * by proxy/pool.ts.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createLogger } from "../bus/log.ts";
import { type DeviceResult, DeviceRunner } from "../proxy/device_runner.ts";
import type { ProxyWorkerCommand, ProxyWorkerReport } from "../proxy/proxy_protocol.ts";

const report = (message: ProxyWorkerReport) => self.postMessage(message);

/** Posts a result; a return that cannot be cloned is sent as its JSON (or its text). */
function postResult(result: DeviceResult): void {
  try {
    report({ type: "result", result });
  } catch {
    let value: unknown;
    try {
      value = JSON.parse(JSON.stringify(result.return) ?? "null");
    } catch {
      value = String(result.return);
    }
    report({ type: "result", result: { ...result, return: value } });
  }
}

let runner: DeviceRunner | undefined;
let log = createLogger("warning", (level, message) => report({ type: "log", level, message }));

// A device's stray promise must not end the Worker (and its other devices).
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  log.warning(`unhandled rejection in a proxy device: ${e.reason}`);
});

self.onmessage = (e: MessageEvent<ProxyWorkerCommand>) => {
  const command = e.data;
  if (command.type === "job") {
    log = createLogger(
      command.logLevel,
      (level, message) => report({ type: "log", level, message }),
    );
    runner = new DeviceRunner(command.job, log);
  } else if (command.type === "device") {
    void runner!.run(command.id, command.options).then(postResult);
  }
};
