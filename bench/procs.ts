/**
 * Process plumbing for `run.ts`: spawning helper processes and brokers,
 * reading their JSON report lines, polling memory, and always cleaning up.
 *
 * @module
 */
import { sleep } from "./common.ts";

const live = new Set<Proc>();

/**
 * Stops every helper process still running (after a scenario, whatever
 * happened to it).
 *
 * @example
 * ```ts
 * import { stopAll } from "./procs.ts";
 * await stopAll();
 * ```
 */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop()));
}

const BENCH_DIR = new URL(".", import.meta.url).pathname;
export const CLI: string = new URL("../cli.ts", import.meta.url).pathname;

/** Splits a byte stream into lines, handing each to `onLine`. */
async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      onLine(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
  }
  if (text) onLine(text);
}

/**
 * A spawned Deno process whose stdout lines are JSON reports and whose
 * stderr lines are kept (and echoed with `echo`).
 *
 * @example
 * ```ts
 * import { Proc } from "./procs.ts";
 * await using p = Proc.bench("raw_subscriber_proc.ts", ["--pub", "/tmp/x/pub.ipc"]);
 * await p.nextReport(5000);
 * ```
 */
export class Proc implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stderrLines: string[] = [];
  readonly #reports: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  readonly #done: Promise<void>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | null;
  #exited = false;

  /** Spawns `deno run --allow-all <args>`. */
  constructor(readonly name: string, args: string[], options: { stdin?: boolean } = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", ...args],
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    live.add(this);
    this.#writer = options.stdin ? this.child.stdin.getWriter() : null;
    const wake = () => {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    };
    this.#done = Promise.all([
      pumpLines(this.child.stdout, (line) => {
        try {
          this.#reports.push(JSON.parse(line));
        } catch {
          this.stderrLines.push(`stdout: ${line}`);
        }
        wake();
      }),
      pumpLines(this.child.stderr, (line) => {
        this.stderrLines.push(line);
        if (Deno.env.get("BENCH_VERBOSE")) console.error(`[${name}] ${line}`);
        wake();
      }),
      this.child.status.then(() => {
        this.#exited = true;
        live.delete(this);
        wake();
      }),
    ]).then(() => {});
  }

  /** Spawns a helper file from bench/ with `args`. */
  static bench(file: string, args: string[], options: { stdin?: boolean } = {}): Proc {
    return new Proc(file.replace(/_proc\.ts$/, ""), [`${BENCH_DIR}${file}`, ...args], options);
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Resolves the next JSON report line, or throws after `timeoutMs` or when
   * the process exits without one.
   */
  async nextReport<T = Record<string, unknown>>(timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const next = this.#reports.shift();
      if (next !== undefined) return next as T;
      if (this.#exited) {
        await this.#done;
        const again = this.#reports.shift();
        if (again !== undefined) return again as T;
        throw new Error(`${this.name} exited without a report:\n${this.stderrTail()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no report within ${timeoutMs} ms`);
      await this.#wait(left);
    }
  }

  /** Waits until a stderr line contains `text`; throws after `timeoutMs` or on exit. */
  async waitStderr(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderrLines.some((line) => line.includes(text))) {
      if (this.#exited) throw new Error(`${this.name} exited:\n${this.stderrTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${text}" within ${timeoutMs} ms`);
      await this.#wait(left);
    }
  }

  /** Writes a line to the process's stdin (spawned with `stdin: true`). */
  async sendLine(line: string): Promise<void> {
    await this.#writer?.write(new TextEncoder().encode(line + "\n"));
  }

  /** The last stderr lines, for error messages. */
  stderrTail(lines = 15): string {
    return this.stderrLines.slice(-lines).join("\n");
  }

  /** Waits for exit up to `timeoutMs`; resolves whether it exited. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#exited && Date.now() < deadline) await this.#wait(deadline - Date.now());
    return this.#exited;
  }

  /** Sends SIGTERM, then SIGKILL after `graceMs`; waits for the process and its pipes. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* gone */ }
      if (!(await this.waitExit(graceMs))) {
        try {
          this.child.kill("SIGKILL");
        } catch { /* gone */ }
      }
    }
    try {
      await this.#writer?.close();
    } catch { /* closed */ }
    await this.child.status;
    await this.#done;
  }

  /** Same as {@linkcode stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiter = () => done();
      this.#waiters.push(waiter);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

/** A master broker process (`cli.ts master`) on its own temp `sock_dir`. */
export interface Master extends AsyncDisposable {
  /** The broker process. */
  proc: Proc;
  /** The temp socket directory. */
  sockDir: string;
  /** The pub socket path. */
  pub: string;
  /** The pull socket path. */
  pull: string;
}

/**
 * Starts `cli.ts master --sock-dir <temp> --log-level warning` (plus a config
 * file when `config` is given) and waits until it listens. Disposing it
 * stops the broker and removes the temp dir.
 *
 * @example
 * ```ts
 * import { startMaster } from "./procs.ts";
 * await using master = await startMaster();
 * console.log(master.pub);
 * ```
 */
export async function startMaster(config?: Record<string, unknown>): Promise<Master> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-" });
  const sockDir = `${dir}/master`;
  const args = [CLI, "master", "--sock-dir", sockDir, "--log-level", "warning"];
  if (config) {
    const file = `${dir}/master.conf`;
    await Deno.writeTextFile(
      file,
      Object.entries(config).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n") + "\n",
    );
    args.push("--config", file);
  }
  const proc = new Proc("master", args);
  const cleanup = async () => {
    await proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await proc.waitStderr("master bus ready", 15_000);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    proc,
    sockDir,
    pub: `${sockDir}/master_event_pub.ipc`,
    pull: `${sockDir}/master_event_pull.ipc`,
    [Symbol.asyncDispose]: cleanup,
  };
}

/** Resident memory of a process, from `/proc/<pid>/status`, in bytes. */
export interface Rss {
  /** Current resident set (VmRSS). */
  rss: number;
  /** Peak resident set (VmHWM). */
  hwm: number;
}

/**
 * Reads VmRSS and VmHWM of `pid`, or `null` when the process is gone.
 *
 * @example
 * ```ts
 * import { readRss } from "./procs.ts";
 * console.log(readRss(Deno.pid));
 * ```
 */
export function readRss(pid: number): Rss | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

/**
 * Runs `body`, failing with a clear message when it takes over `ms`.
 *
 * @example
 * ```ts
 * import { withTimeout } from "./procs.ts";
 * await withTimeout("demo", 1000, async () => {});
 * ```
 */
export async function withTimeout<T>(name: string, ms: number, body: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: over its time limit of ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([body(), timeout]);
  } finally {
    clearTimeout(timer);
    await sleep(0);
  }
}
