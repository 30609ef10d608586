/**
 * `cli.ts proxy <target> <fun> [args...] [key=value...]`: salt-sproxy. Runs
 * an execution function on the roster devices the target matches, through
 * their proxy modules, without any long-running proxy minion; prints each
 * device's return (`<id>:` then the return, sorted by id).
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { createLogger } from "../bus/log.ts";
import { TargetError } from "../jobs/target.ts";
import { formatOutput } from "../output/outputter.ts";
import { outFrom, TARGET_OPTIONS, targetFrom } from "./shared_options.ts";
import type { ProxySummary } from "../proxy/proxy_events.ts";
import { type ProxyRun, runProxy } from "../proxy/run_proxy.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { ProgressLine } from "./progress_line.ts";
import { parseSaltArgs } from "./salt_args.ts";

/**
 * Options of the proxy command (besides the common ones), for `parseArgs`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import { PROXY_OPTIONS } from "./proxy_command.ts";
 * parseArgs({ args: ["-L", "sw1,sw2", "test.ping"], options: PROXY_OPTIONS, allowPositionals: true });
 * ```
 */
export const PROXY_OPTIONS = {
  ...TARGET_OPTIONS,
  roster: { type: "string", short: "r" },
  "proxy-dir": { type: "string", multiple: true },
  events: { type: "boolean" },
  summary: { type: "boolean" },
  "batch-size": { type: "string", short: "b" },
  timeout: { type: "string", short: "t" },
  out: { type: "string" },
} as const;

function positiveNumber(values: Values, option: string, integer: boolean): number | undefined {
  const raw = values[option];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${option} must be ${integer ? "an integer" : "a number"} > 0, not '${raw}'`,
    );
  }
  return n;
}

/** The roster file: `--roster`, else `roster_file`, else `roster` beside the config file. */
function rosterPath(values: Values, config: BusConfig): string {
  if (typeof values.roster === "string") return values.roster;
  if (typeof config.roster_file === "string" && config.roster_file !== "") {
    return config.roster_file;
  }
  if (typeof values.config === "string") return join(dirname(values.config), "roster");
  throw new UsageError(
    "proxy needs a roster: --roster FILE, or roster_file in the config given with --config",
  );
}

/**
 * Runs `proxy` with its parsed options and the master `config`; resolves the
 * exit code: 0 when every matched device succeeded, 1 when one failed or
 * none matched.
 *
 * @example
 * ```ts
 * import { runProxyCommand } from "./proxy_command.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await runProxyCommand({ roster: "/etc/saltbus/roster" }, ["edge*", "net.arp"], resolveConfig("master", {}));
 * ```
 */
export async function runProxyCommand(
  values: Values,
  positionals: string[],
  config: BusConfig,
): Promise<number> {
  const [target, fun, ...rest] = positionals;
  if (target === undefined || fun === undefined) {
    throw new UsageError("proxy needs a target and a function: cli.ts proxy '<target>' test.ping");
  }
  const { tgt, tgtType } = targetFrom(values, target);
  const out = outFrom(values);
  const timeout = positiveNumber(values, "timeout", false) ?? 30;
  const batchSize = positiveNumber(values, "batch-size", true);
  const proxyDirs = (values as Record<string, unknown>)["proxy-dir"] as string[] | undefined;
  const { args, kwargs } = parseSaltArgs(rest);
  const log = createLogger(config.log_level);

  let progress: ProgressLine | undefined;
  let run: ProxyRun;
  try {
    run = await runProxy({
      tgt,
      tgtType,
      fun,
      args,
      kwargs,
      roster: rosterPath(values, config),
      config,
      proxyModuleDirs: proxyDirs,
      events: values.events === true || config.events === true,
      summary: values.summary === true,
      batchSize,
      timeout,
      log,
      onResult(_result, { done, failed, total }) {
        progress ??= new ProgressLine("proxy", total);
        progress.update(done, failed);
      },
    });
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    progress?.clear();
  }
  if (run.results.length === 0) {
    console.error("No devices matched the target in the roster.");
    return EXIT.failure;
  }
  const text = formatOutput(Object.fromEntries(run.results.map((r) => [r.id, r.return])), out);
  if (text !== "") await writeStdout(text);
  if (values.summary === true) console.error(summaryText(run.summary));
  return run.summary.retcode === 0 ? EXIT.ok : EXIT.failure;
}

/** salt-sproxy's `--summary` block. */
function summaryText(s: ProxySummary): string {
  const line = "-------------------------------------------";
  const returned = s.matched_minions.length - s.timeout_minions.length -
    s.unreachable_devices.length;
  return [
    line,
    "Summary",
    line,
    `# of devices targeted: ${s.matched_minions.length}`,
    `# of devices returned: ${returned}`,
    `# of devices that did not return: ${s.timeout_minions.length}`,
    `# of devices with errors: ${s.failed_minions.length}`,
    `# of devices unreachable: ${s.unreachable_devices.length}`,
    line,
  ].join("\n");
}

/** Writes all of `text` to stdout; a closed pipe (`| head`) is not an error. */
async function writeStdout(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  try {
    let written = 0;
    while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}
