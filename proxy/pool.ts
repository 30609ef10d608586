/**
 * The Worker pool of a proxy run: a fixed number of proxy Workers
 * (workers/proxy_worker.ts) fed from one work queue. Each Worker has up to
 * `devicesPerWorker` devices in flight and gets the next one as soon as one
 * finishes, so a slow device never holds up a whole batch.
 *
 * Devices time out inside their Worker. A Worker whose event loop is stuck
 * (a device's code spinning synchronously) cannot even do that: the pool
 * then stops it, answers its devices as timed out, and starts another.
 *
 * @module
 */
import type { Logger, LogLevel } from "../bus/log.ts";
import { SaltbusError } from "../bus/errors.ts";
import type { ProxyWorkerCommand, ProxyWorkerReport } from "./proxy_protocol.ts";
import type { DeviceResult, ProxyJob } from "./device_runner.ts";
import type { DeviceOptions } from "./proxy_module.ts";

/**
 * A proxy run that could not be carried out: its Workers could not start,
 * or it was aborted.
 *
 * @example
 * ```ts
 * import { ProxyRunError } from "./pool.ts";
 * const err = new ProxyRunError("proxy worker failed to start: …");
 * console.log(err.name); // "ProxyRunError"
 * ```
 */
export class ProxyRunError extends SaltbusError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyRunError";
  }
}

/** Options of {@linkcode runPool}. */
export interface PoolOptions {
  /** What every device runs. */
  job: ProxyJob;
  /** How many Workers (at most one per device). */
  workers: number;
  /** Devices in flight per Worker. */
  devicesPerWorker: number;
  /** The Workers' log level. */
  logLevel: LogLevel;
  /** Where Worker log lines go (each distinct line once). */
  log: Logger;
  /** Called with each device's result as it arrives. */
  onResult: (result: DeviceResult) => void;
  /** Stops the run: the Workers are terminated and the pool rejects. */
  signal?: AbortSignal;
  /** How long past its timeout a device's Worker may stay silent before it is stopped (ms, default 5000). */
  graceMs?: number;
}

interface Slot {
  worker: Worker;
  inFlight: Map<string, number>;
  answered: number;
}

const WORKER_URL = new URL("../workers/proxy_worker.ts", import.meta.url);
const DEDUP_LIMIT = 1000;

/**
 * Runs `devices` (`[id, options]` pairs) through a pool of proxy Workers;
 * resolves once every device has a result (passed to `onResult` on the
 * way), then terminates the Workers (and whatever still hangs in them).
 *
 * @throws {ProxyRunError} when a Worker cannot start, or on abort.
 * @example
 * ```ts
 * import { runPool } from "./pool.ts";
 * import { createLogger } from "../bus/log.ts";
 * await runPool([["sw1", { proxytype: "dummy" }], ["sw2", { proxytype: "dummy" }]], {
 *   job: { fun: "test.ping", args: [], kwargs: {}, timeoutMs: 5000, opts: {}, proxyModuleDirs: [] },
 *   workers: 2,
 *   devicesPerWorker: 4,
 *   logLevel: "warning",
 *   log: createLogger("warning"),
 *   onResult: (r) => console.log(r.id, r.return),
 * });
 * ```
 */
export function runPool(
  devices: readonly (readonly [string, DeviceOptions])[],
  options: PoolOptions,
): Promise<void> {
  const { job, log, onResult, signal } = options;
  const graceMs = options.graceMs ?? 5000;
  const queue = devices.slice().reverse(); // pop() takes the next device
  const slots = new Set<Slot>();
  const seen = new Set<string>();
  let remaining = devices.length;
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  if (remaining === 0) return Promise.resolve();

  const finish = (error?: unknown) => {
    clearInterval(watchdog);
    signal?.removeEventListener("abort", onAbort);
    for (const slot of slots) slot.worker.terminate();
    slots.clear();
    if (error === undefined) resolve();
    else reject(error);
  };
  const deliver = (result: DeviceResult) => {
    onResult(result);
    if (--remaining === 0) finish();
  };
  const dispatch = (slot: Slot) => {
    while (slot.inFlight.size < options.devicesPerWorker && queue.length > 0) {
      const [id, deviceOptions] = queue.pop()!;
      slot.inFlight.set(id, Date.now() + job.timeoutMs + graceMs);
      post(slot.worker, { type: "device", id, options: deviceOptions });
    }
  };
  const retire = (slot: Slot, why: (id: string) => DeviceResult) => {
    slot.worker.terminate();
    slots.delete(slot);
    const ids = [...slot.inFlight.keys()];
    slot.inFlight.clear();
    for (const id of ids) deliver(why(id));
    if (remaining > 0 && queue.length > 0) spawn();
  };
  const spawn = () => {
    const worker = new Worker(WORKER_URL, { type: "module" });
    const slot: Slot = { worker, inFlight: new Map(), answered: 0 };
    slots.add(slot);
    worker.onmessage = (e: MessageEvent<ProxyWorkerReport>) => {
      const report = e.data;
      if (report.type === "log") {
        const key = `${report.level}\n${report.message}`;
        if (seen.has(key)) return;
        if (seen.size < DEDUP_LIMIT) seen.add(key);
        log[report.level](report.message);
        return;
      }
      if (!slot.inFlight.delete(report.result.id)) return; // already answered by the watchdog
      slot.answered++;
      deliver(report.result);
      if (remaining > 0) dispatch(slot);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (!slots.has(slot)) return;
      if (slot.answered === 0 && slot.inFlight.size === 0) {
        finish(new ProxyRunError(`proxy worker failed to start: ${e.message}`));
        return;
      }
      log.error(`a proxy worker died: ${e.message}; starting another`);
      retire(slot, (id) => failure(id, `The proxy worker running it died: ${e.message}`, "failed"));
    };
    post(worker, { type: "job", job, logLevel: options.logLevel });
    dispatch(slot);
  };
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const slot of [...slots]) {
      if (![...slot.inFlight.values()].some((deadline) => deadline < now)) continue;
      log.warning(
        `a proxy worker did not answer for ${graceMs / 1000} s past the timeout ` +
          `(a device blocks its thread?): stopping it`,
      );
      retire(slot, (id) =>
        failure(
          id,
          `Timed out after ${job.timeoutMs / 1000} s (its worker was stuck and was stopped)`,
          "timeout",
        ));
    }
  }, Math.min(1000, graceMs));
  const onAbort = () =>
    finish(new ProxyRunError("the proxy run was aborted", { cause: signal?.reason }));
  if (signal?.aborted) {
    onAbort();
    return promise;
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  const count = Math.max(1, Math.min(options.workers, devices.length));
  for (let i = 0; i < count; i++) spawn();
  return promise;
}

function post(worker: Worker, command: ProxyWorkerCommand): void {
  worker.postMessage(command);
}

function failure(id: string, text: string, status: DeviceResult["status"]): DeviceResult {
  return { id, return: text, retcode: 1, success: false, status };
}
