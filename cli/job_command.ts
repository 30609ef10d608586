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
import { createLogger } from "../bus/log.ts";
import { publishArgs } from "../jobs/return_load.ts";
import type { TargetType } from "../jobs/target.ts";
import { masterLinkPath } from "../link/link_paths.ts";
import { MasterRequestError, requestMaster } from "../link/master_link.ts";
import type { PublishResult } from "../master/job_publisher.ts";
import { getEvent } from "../mod.ts";
import { formatOutput, isOutputterName, OUTPUTTERS } from "../output/outputter.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { parseSaltArgs } from "./salt_args.ts";

/** Options of the job command (besides the common ones). */
export const JOB_OPTIONS = {
  list: { type: "boolean", short: "L" },
  pcre: { type: "boolean", short: "E" },
  grain: { type: "boolean", short: "G" },
  compound: { type: "boolean", short: "C" },
  timeout: { type: "string", short: "t" },
  out: { type: "string" },
} as const;

/** What a minion that did not answer shows, as Salt's `salt` prints it. */
export const NO_RESPONSE = "Minion did not return. [No response]";
/** What an expected minion that is not connected shows. */
export const NOT_CONNECTED = "Minion did not return. [Not connected]";

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
  const types = (["list", "pcre", "grain", "compound"] as const).filter((t) => values[t]);
  if (types.length > 1) {
    throw new UsageError(`choose one target type, not ${types.map((t) => `--${t}`).join(" and ")}`);
  }
  const tgtType: TargetType = types[0] ?? "glob";
  const tgt = tgtType === "list" ? target.split(",").filter((s) => s !== "") : target;
  const timeout = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout must be seconds > 0, not '${values.timeout}'`);
  }
  const out = (values.out as string | undefined) ?? "nested";
  if (!isOutputterName(out)) {
    throw new UsageError(`--out must be one of ${OUTPUTTERS.join(", ")}, not '${out}'`);
  }
  const { args, kwargs } = parseSaltArgs(rest);
  const log = createLogger(config.log_level);
  await using listener = getEvent("master", { opts: config, log });
  if (!(await listener.connected(5))) {
    console.error(`saltbus: no master bus at ${config.sock_dir}: start one with 'cli.ts master'`);
    return EXIT.failure;
  }
  let job: PublishResult;
  try {
    job = await requestMaster("_publish", {
      request: {
        tgt,
        tgt_type: tgtType,
        fun,
        arg: publishArgs(args, kwargs),
        user: Deno.env.get("USER") ?? "root",
      },
    }, {
      path: masterLinkPath(config.sock_dir),
      hello: { role: "client", id: "saltbus-cli", pid: Deno.pid },
    }) as PublishResult;
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
  const waiting = new Set(job.minions.filter((id) => !job.missing.includes(id)));
  let failed = false;
  const print = (id: string, value: unknown) => {
    const text = formatOutput({ [id]: value }, out);
    if (text !== "") console.log(text.replace(/\n$/, ""));
  };
  const deadline = Date.now() + timeout * 1000;
  while (waiting.size > 0 && Date.now() < deadline) {
    const event = await listener.getEvent<Record<string, unknown>>({
      tag: `salt/job/${job.jid}/ret/`,
      wait: (deadline - Date.now()) / 1000,
      full: true,
    });
    if (event === null) break;
    const id = String(event.data.id);
    waiting.delete(id);
    if (event.data.success !== true) failed = true;
    print(id, event.data.return);
  }
  for (const id of job.minions) {
    if (job.missing.includes(id)) print(id, NOT_CONNECTED);
    else if (waiting.has(id)) print(id, NO_RESPONSE);
  }
  return failed || waiting.size > 0 || job.missing.length > 0 ? EXIT.failure : EXIT.ok;
}

/**
 * Parses the arguments of a job command (`<target> <fun> …` and its options).
 *
 * @throws {UsageError} for an unknown option.
 * @example
 * ```ts
 * import { parseJobArgs } from "./job_command.ts";
 * parseJobArgs(["-G", "os:Debian", "test.ping"]).positionals; // ["os:Debian", "test.ping"]
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
