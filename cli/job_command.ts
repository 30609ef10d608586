/**
 * `cli.ts <target> <fun> [args...] [key=value...]` (or `cli.ts salt …`):
 * Salt's `salt` command. Publishes a job through the master to its minions,
 * waits for their returns on the master bus, and prints them per minion.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { MasterRequestError } from "../link/master_link.ts";
import { type JobOptions, LocalClient } from "../jobs/local_client.ts";
import { formatOutput, type OutputterName } from "../output/outputter.ts";
import {
  COLOR_OPTIONS,
  colorFrom,
  indentFrom,
  outFrom,
  printOutput,
  TARGET_OPTIONS,
  targetFrom,
} from "./shared_options.ts";
import { permissionError } from "../bus/permission.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { parseSaltArgs } from "./salt_args.ts";
import { type BatchRun, runBatch } from "./batch_run.ts";

/** Options of the job command (besides the common ones). */
export const JOB_OPTIONS = {
  ...TARGET_OPTIONS,
  timeout: { type: "string", short: "t" },
  "batch-size": { type: "string", short: "b" },
  out: { type: "string" },
  async: { type: "boolean" },
  return: { type: "string" },
  "show-jid": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  static: { type: "boolean" },
  "out-file": { type: "string" },
  "out-file-append": { type: "boolean" },
  "out-indent": { type: "string" },
  ...COLOR_OPTIONS,
} as const;

/**
 * Runs a job; resolves the exit code: 0 when every expected minion returned
 * successfully, 1 otherwise.
 *
 * @example
 * ```ts
 * import { runJobCommand } from "./job_command.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await runJobCommand({}, ["web*", "test.ping"], resolveConfig("master", {}));
 * ```
 */
export async function runJobCommand(
  values: Values,
  positionals: string[],
  config: BusConfig,
): Promise<number> {
  const [target, fun, ...rest] = positionals;
  if (target === undefined || fun === undefined) {
    throw new UsageError("a job needs a target and a function: cli.ts '<target>' test.ping");
  }
  const { tgt, tgtType } = targetFrom(values, target);
  const timeout = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout must be seconds > 0, not '${values.timeout}'`);
  }
  const out = outFrom(values);
  const { args, kwargs } = parseSaltArgs(rest);
  const returners = returnFrom(values);
  await using client = new LocalClient({ opts: config });
  if (values.async === true) {
    return await runAsync(client, tgt, fun, args, { tgtType, kwargs, ret: returners });
  }
  const outIndent = indentFrom(values);
  const indent = out === "json" ? outIndent : undefined;
  const color = colorFrom(values) && values["out-file"] === undefined;
  const print = await outputSink(values);
  if (values["batch-size"] !== undefined) {
    try {
      return await runBatchJob(client, values, print, {
        tgt,
        fun,
        args,
        options: { tgtType, kwargs, ret: returners },
        batch: String(values["batch-size"]),
        timeout,
        say: (line) => console.log(line),
      }, { out, indent, color });
    } finally {
      await print.close();
    }
  }
  let failed = false;
  let answered = 0;
  const collected: Record<string, unknown> = {};
  try {
    const job = await client.publish(tgt, fun, args, { tgtType, kwargs, ret: returners });
    if (job.minions.length > 0) {
      if (values.verbose === true) {
        // Salt's print_cli: the message, then dashes as long as it and a blank line.
        const message = `Executing job with jid ${job.jid}`;
        console.log(`${message}\n${"-".repeat(message.length)}\n`);
      } else if (values["show-jid"] === true) {
        console.log(`jid: ${job.jid}`);
      }
    }
    const returns = client.returns(job, timeout)[Symbol.asyncIterator]();
    const interrupted = untilInterrupt();
    try {
      for (;;) {
        const next = await Promise.race([returns.next(), interrupted.promise]);
        if (next === INTERRUPTED) {
          console.error(interruptMessage(job.jid));
          return EXIT.failure;
        }
        if (next.done) break;
        const ret = next.value;
        answered++;
        if (!ret.success) failed = true;
        if (values.static === true) collected[ret.id] = ret.return;
        else {
          await print(
            formatOutput({ [ret.id]: ret.return }, out, { indent, color, retcode: ret.retcode }),
          );
        }
      }
    } finally {
      interrupted.dispose();
    }
    if (values.static === true && answered > 0) {
      await print(formatOutput(collected, out, { indent, color, retcode: failed ? 1 : 0 }));
    }
  } catch (err) {
    if (err instanceof MasterRequestError) {
      console.error(`saltbus: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  } finally {
    await print.close();
  }
  if (answered === 0) {
    console.error("No minions matched the target. No command was sent, no jid was assigned.");
    return EXIT.failure;
  }
  return failed ? EXIT.failure : EXIT.ok;
}

/** `-b`: Salt's batch run, each return printed with its set's jid and retcode. */
async function runBatchJob(
  client: LocalClient,
  values: Values,
  print: (text: string) => Promise<void>,
  run: BatchRun,
  format: { out: OutputterName | undefined; indent: number | undefined; color: boolean },
): Promise<number> {
  let failed = false;
  let answered = 0;
  const collected: Record<string, unknown> = {};
  try {
    for await (const ret of runBatch(client, run)) {
      answered++;
      if (!ret.success) failed = true;
      if (values.static === true) collected[ret.id] = ret.return;
      else {
        const shown = { [ret.id]: ret.return, jid: ret.jid, retcode: ret.retcode };
        await print(formatOutput(shown, format.out, { ...format, retcode: ret.retcode }));
      }
    }
  } catch (err) {
    if (err instanceof MasterRequestError) {
      console.error(`saltbus: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  }
  if (values.static === true && answered > 0) {
    await print(formatOutput(collected, format.out, { ...format, retcode: failed ? 1 : 0 }));
  }
  return answered === 0 || failed ? EXIT.failure : EXIT.ok;
}

const INTERRUPTED = Symbol("interrupted");

/** Resolves {@linkcode INTERRUPTED} on Ctrl-C (SIGINT) until disposed. */
function untilInterrupt(): { promise: Promise<typeof INTERRUPTED>; dispose(): void } {
  let onSignal = () => {};
  const promise = new Promise<typeof INTERRUPTED>((resolve) => {
    onSignal = () => resolve(INTERRUPTED);
  });
  Deno.addSignalListener("SIGINT", onSignal);
  return { promise, dispose: () => Deno.removeSignalListener("SIGINT", onSignal) };
}

/**
 * Salt's message when a job is interrupted with Ctrl-C: the jid, and how to
 * look its returns up later (they keep going to the job cache).
 *
 * @example
 * ```ts
 * import { interruptMessage } from "./job_command.ts";
 * console.error(interruptMessage("20240501123456789012"));
 * ```
 */
export function interruptMessage(jid: string): string {
  return `\nExiting gracefully on Ctrl-c\nThis job's jid is: ${jid}\n` +
    "The minions may not have all finished running and any remaining minions will return " +
    "upon completion. To look up the return data for this job later, run the following " +
    `command:\n\ncli.ts run jobs.lookup_jid ${jid}`;
}

/** Where the output goes: standard output, or `--out-file` (truncated, or appended to). */
async function outputSink(
  values: Values,
): Promise<((text: string) => Promise<void>) & { close(): Promise<void> }> {
  const path = values["out-file"];
  if (path === undefined) {
    return Object.assign((text: string) => Promise.resolve(printOutput(text)), {
      close: () => Promise.resolve(),
    });
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(String(path), {
      write: true,
      create: true,
      append: values["out-file-append"] === true,
      truncate: values["out-file-append"] !== true,
    });
  } catch (err) {
    throw permissionError(err, `writing --out-file ${path}`) ??
      new UsageError(`--out-file ${path}: ${err instanceof Error ? err.message : err}`);
  }
  const encoder = new TextEncoder();
  return Object.assign(async (text: string) => {
    if (text !== "") await file.write(encoder.encode(text.endsWith("\n") ? text : `${text}\n`));
  }, { close: () => Promise.resolve(file.close()) });
}

/** `--return a,b`: returner names, comma separated (the minions check they exist). */
function returnFrom(values: Values): string | undefined {
  const ret = values.return;
  if (ret === undefined) return undefined;
  const names = String(ret).split(",").map((n) => n.trim());
  if (names.some((n) => !/^[\w-]+$/.test(n))) {
    throw new UsageError(`--return needs returner names such as sqlite or a,b, not '${ret}'`);
  }
  return names.join(",");
}

/** `--async`: publishes, prints Salt's `Executed command with job ID: <jid>`, does not wait. */
async function runAsync(
  client: LocalClient,
  tgt: string | string[],
  fun: string,
  args: unknown[],
  options: JobOptions,
): Promise<number> {
  let job;
  try {
    job = await client.publish(tgt, fun, args, options);
  } catch (err) {
    if (err instanceof MasterRequestError) {
      console.error(`saltbus: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  }
  if (job.minions.length === 0) {
    console.error("No minions matched the target. No command was sent, no jid was assigned.");
    return EXIT.failure;
  }
  printOutput(`Executed command with job ID: ${job.jid}\n`);
  return EXIT.ok;
}

/**
 * Parses the arguments of a job command (`<target> <fun> …` and its options).
 *
 * @throws {UsageError} for an unknown option.
 * @example
 * ```ts
 * import { parseJobArgs } from "./job_command.ts";
 * parseJobArgs(["-G", "os:Debian", "test.ping"], {}).positionals; // ["os:Debian", "test.ping"]
 * ```
 */
export function parseJobArgs(
  args: string[],
  common: Record<string, { type: "string" | "boolean"; short?: string }>,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...common, ...JOB_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(`${message}; see 'cli.ts salt --help'`);
  }
}
