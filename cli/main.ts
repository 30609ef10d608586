/**
 * The command dispatcher behind `cli.ts`: parses arguments, runs one
 * command, turns user mistakes into one line on stderr and an exit code.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BusConfig, configSocketPaths, loadConfig } from "../bus/config.ts";
import { EventDataError, SaltbusError, UsageError } from "../bus/errors.ts";
import { socketServices } from "../link/node_services.ts";
import { permissionError } from "../bus/permission.ts";
import { formatOutput } from "../output/outputter.ts";
import { createLogger, formatLogLine, isLogLevel } from "../bus/log.ts";
import { announceApi, printPasswordHash, serveApi } from "./api_command.ts";
import { defaultMasterComponents } from "../master/components.ts";
import type { NodeKind } from "../bus/paths.ts";
import { validatePattern } from "../bus/tag_match.ts";
import { getEvent } from "../transport/get_event.ts";
import { startMaster } from "../master/start_master.ts";
import { runMinion } from "./minion_command.ts";
import { runCall } from "./call_command.ts";
import { parseJobArgs, runJobCommand } from "./job_command.ts";
import { PROXY_OPTIONS, runProxyCommand } from "./proxy_command.ts";
import { KEY_OPTIONS, runKeyCommand } from "./key_command.ts";
import { untilStopSignal } from "./signals.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { indentFrom, outFrom, printOutput } from "./shared_options.ts";
import { parseSaltArgs, parseYamlValue } from "./salt_args.ts";
import { watchEvents } from "../runners/state_event.ts";
import { callRunner, RUNNERS } from "../runners/registry.ts";
import { HELP, JOB_HELP, USAGE } from "./usage.ts";

export { EXIT };

/** Options every command takes. */
const COMMON = {
  help: { type: "boolean", short: "h" },
  config: { type: "string", short: "c" },
  "sock-dir": { type: "string" },
  "log-level": { type: "string", short: "l" },
  id: { type: "string" },
} as const;

/** Per-command extra options. */
const OPTIONS = {
  master: {},
  api: { port: { type: "string" }, host: { type: "string" } },
  minion: { "master-sock-dir": { type: "string" } },
  call: {
    local: { type: "boolean" },
    out: { type: "string" },
    "master-sock-dir": { type: "string" },
  },
  run: { out: { type: "string" }, "out-indent": { type: "string" } },
  proxy: PROXY_OPTIONS,
  key: KEY_OPTIONS,
  fire: { node: { type: "string" }, timeout: { type: "string" } },
  watch: {
    count: { type: "string", short: "n" },
    pretty: { type: "boolean" },
    json: { type: "boolean" },
    node: { type: "string" },
  },
} as const;

type Command = keyof typeof OPTIONS;

/**
 * Runs the CLI with `args` (without the program name) and resolves the exit
 * code. Never throws for a user mistake: it prints one line to stderr.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * Deno.exit(await main(["run", "state.event", "pretty=True"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (caught) {
    const err = permissionError(caught, "saltbus") ?? caught;
    if (err instanceof SaltbusError) {
      console.error(`saltbus: ${err.message}`);
      return err instanceof UsageError ? EXIT.usage : EXIT.failure;
    }
    throw err;
  }
}

async function dispatch(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "salt" || (!(command in OPTIONS) && isJobCommand(args))) {
    const jobArgs = command === "salt" ? rest : args;
    const { values, positionals } = parseJobArgs(jobArgs, COMMON);
    if (values.help) {
      console.log(JOB_HELP);
      return EXIT.ok;
    }
    return await runJobCommand(values, positionals, await configFor("master", values));
  }
  if (!(command in OPTIONS)) {
    throw new UsageError(`unknown command '${command}'; run 'cli.ts --help' for the commands`);
  }
  const { values, positionals } = parse(command as Command, rest);
  if (values.help) {
    console.log(HELP[command as Command]);
    return EXIT.ok;
  }
  switch (command as Command) {
    case "master":
      return await runMaster(values, positionals);
    case "api":
      return await runApi(values, positionals);
    case "minion":
      return await runMinion(
        values,
        positionals,
        await configFor("minion", values, minionExtra(values)),
      );
    case "call":
      return await runCall(
        values,
        positionals,
        await configFor("minion", values, minionExtra(values)),
      );
    case "run":
      return await runRunner(values, positionals);
    case "proxy":
      return await runProxyCommand(values, positionals, await configFor("master", values));
    case "key":
      return await runKeyCommand(values, positionals, await configFor("master", values));
    case "fire":
      return await fire(values, positionals[0], positionals.slice(1), "fire");
    case "watch":
      return await watch(values, positionals);
  }
}

function parse(command: Command, args: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...COMMON, ...OPTIONS[command] },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(`${command}: ${message}; see 'cli.ts ${command} --help'`);
  }
}

/** Loads the config for `node` from `--config`, with `--sock-dir`, `--id`, `--log-level` winning. */
async function configFor(
  node: NodeKind,
  values: Values,
  extra: Record<string, unknown> = {},
): Promise<BusConfig> {
  const overrides: Record<string, unknown> = { ...extra };
  if (values["sock-dir"] !== undefined) overrides.sock_dir = values["sock-dir"];
  if (values.id !== undefined) overrides.id = values.id;
  if (values["log-level"] !== undefined) {
    if (!isLogLevel(values["log-level"])) {
      throw new UsageError(
        `--log-level must be debug, info, warning, error or quiet, not '${values["log-level"]}'`,
      );
    }
    overrides.log_level = values["log-level"];
  }
  return await loadConfig(node, values.config as string | undefined, overrides);
}

/**
 * True when the arguments read as Salt's `salt <target> <fun> …`: a target
 * option first, or a function name (`module.function`) after the target.
 */
function isJobCommand(args: string[]): boolean {
  const [first, second] = args;
  return /^-[LEGC]$|^--(?:list|pcre|grain|compound)$/.test(first) ||
    (second !== undefined && /^\w+\.\w+$/.test(second));
}

/** Minion-only command-line options, as config overrides. */
function minionExtra(values: Values): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  if (values["master-sock-dir"] !== undefined) extra.master_sock_dir = values["master-sock-dir"];
  if (values.local) extra.local = true;
  return extra;
}

function nodeOf(value: unknown): NodeKind {
  if (value === undefined || value === "master") return "master";
  if (value === "minion") return "minion";
  throw new UsageError(`node must be master or minion, not '${value}'`);
}

// ------------------------------------------------------------------ master

async function runMaster(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(`master takes no arguments, got '${positionals[0]}'`);
  }
  const config = await configFor("master", values);
  if (values["log-level"] === undefined && values.config === undefined) config.log_level = "info";
  const log = createLogger(config.log_level);
  const master = await startMaster({
    config,
    log,
    source: values.config as string | undefined,
    components: defaultMasterComponents({ onApiReady: announceApi }),
  });
  const bus = master.bus;
  console.error(
    formatLogLine(
      "info",
      `master bus ready: pub ${bus.paths.pub}, pull ${bus.paths.pull} (Ctrl-C to stop)`,
    ),
  );
  const signal = await untilStopSignal();
  log.info(`${signal}: shutting down`);
  await master.close();
  log.info("stopped; socket files removed");
  return EXIT.ok;
}

// ------------------------------------------------------------------- api

async function runApi(values: Values, positionals: string[]): Promise<number> {
  if (positionals[0] === "hash-password") return await printPasswordHash(positionals.slice(1));
  if (positionals.length > 0) {
    throw new UsageError(`api: unknown argument '${positionals[0]}'; see 'cli.ts api --help'`);
  }
  const config = await configFor("master", values);
  if (values["log-level"] === undefined && values.config === undefined) config.log_level = "info";
  return await serveApi({
    config,
    source: values.config as string | undefined,
    log: createLogger(config.log_level),
    port: values.port as string | undefined,
    host: values.host as string | undefined,
  });
}

// ------------------------------------------------------------------- run

/** `run <fun> [args…]`: a runner from the registry, with Salt's argument binding. */
async function runRunner(values: Values, positionals: string[]): Promise<number> {
  const [fun, ...rest] = positionals;
  if (fun === undefined) {
    throw new UsageError(`run needs a function: one of ${Object.keys(RUNNERS).join(", ")}`);
  }
  const { args, kwargs } = parseSaltArgs(rest);
  const out = outFrom(values);
  const indent = indentFrom(values);
  const config = await configFor("master", values);
  const log = createLogger(config.log_level);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let result: unknown;
  try {
    result = await callRunner(fun, args, kwargs, {
      opts: config,
      configFor: (node, overrides) => configFor(node, values, overrides),
      log,
      services: socketServices,
      print: (line) => console.log(line),
      signal: abort.signal,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  // Runners that print as they go (state.event) or only report success
  // (event.send) return a boolean; others' returns go through the outputter.
  if (typeof result !== "boolean") {
    printOutput(formatOutput(result, out, out === "json" ? { indent } : {}));
  }
  return result === false ? EXIT.failure : EXIT.ok;
}

// ----------------------------------------------------------------- watch

async function watch(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 1) {
    throw new UsageError(`watch takes one PATTERN, got ${positionals.length} arguments`);
  }
  let count = -1;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!Number.isInteger(count)) {
      throw new UsageError(`--count must be an integer, not '${values.count}'`);
    }
  }
  if (values.json && values.pretty) throw new UsageError("--json and --pretty do not go together");
  return await watchBus(values, nodeOf(values.node), {}, {
    tagmatch: positionals[0] ?? "*",
    count,
    pretty: values.pretty === true,
    format: values.json ? "json" : "salt",
  });
}

async function watchBus(
  values: Values,
  node: NodeKind,
  extra: Record<string, unknown>,
  options: Parameters<typeof watchEvents>[1] & { tagmatch: string },
): Promise<number> {
  try {
    validatePattern(options.tagmatch, "fnmatch");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const config = await configFor(node, values, extra);
  const log = createLogger(config.log_level);
  await using client = getEvent(node, { opts: config, log });
  if (!(await client.connected(5))) {
    console.error(
      `saltbus: no ${node} bus listening at ${configSocketPaths(config).pub}: ` +
        `start one with 'deno task start' or point --sock-dir/--config at it`,
    );
    return EXIT.failure;
  }
  log.info(`watching ${configSocketPaths(config).pub}`);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await watchEvents(client, { ...options, signal: abort.signal });
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return EXIT.ok;
}

// ------------------------------------------------------------------ fire

async function fire(
  values: Values,
  tag: string | undefined,
  rest: string[],
  command: string,
): Promise<number> {
  if (rest.length > 1) {
    throw new UsageError(
      `${command} takes a tag and optional data, got ${rest.length + 1} arguments`,
    );
  }
  const data = rest.length === 1 ? parseYamlValue(rest[0]) : undefined;
  return await fireParsed(values, tag, data, command, nodeOf(values.node));
}

async function fireParsed(
  values: Values,
  tag: unknown,
  data: unknown,
  command: string,
  node: NodeKind,
): Promise<number> {
  if (tag === undefined) throw new UsageError(`${command} needs a tag`);
  if (typeof tag !== "string") tag = String(tag);
  const payload = data ?? {};
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new UsageError(
      `${command}: data must be a mapping such as '{"key": "value"}', not ${
        JSON.stringify(payload)
      }`,
    );
  }
  let timeout = 1000;
  if (values.timeout !== undefined) {
    timeout = Number(values.timeout);
    if (!(timeout > 0)) throw new UsageError(`--timeout must be milliseconds > 0`);
  }
  const config = await configFor(node, values);
  const log = createLogger(config.log_level);
  await using client = getEvent(node, { opts: config, log, listen: false });
  let sent: boolean;
  try {
    sent = await client.fireEvent(payload as Record<string, unknown>, tag as string, { timeout });
  } catch (err) {
    if (err instanceof EventDataError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
  if (!sent) {
    console.error(
      `saltbus: no ${node} bus listening at ${
        configSocketPaths(config).pull
      }: the event was not sent`,
    );
    return EXIT.failure;
  }
  await client.flush();
  return EXIT.ok;
}
