/**
 * The typed messages between a proxy run's main thread and its proxy
 * Workers (workers/proxy_worker.ts).
 *
 * @module
 */
import type { LogLevel, MessageLevel } from "../bus/log.ts";
import type { DeviceResult, ProxyJob } from "./device_runner.ts";
import type { DeviceOptions } from "./proxy_module.ts";

/** Main thread → proxy Worker: the job once, then devices one by one. */
export type ProxyWorkerCommand =
  | { type: "job"; job: ProxyJob; logLevel: LogLevel }
  | { type: "device"; id: string; options: DeviceOptions };

/** Proxy Worker → main thread: one result per device, and log lines. */
export type ProxyWorkerReport =
  | { type: "result"; result: DeviceResult }
  | { type: "log"; level: MessageLevel; message: string };
