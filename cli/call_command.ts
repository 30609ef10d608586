/**
 * `cli.ts call <fun> [args...] [key=value...]`: Salt's `salt-call`. Runs one
 * execution function on this host and prints its return (`local:` then the
 * result, in Salt's nested outputter by default). Functions that take
 * keyword arguments get `__pub_fun`, `__pub_jid`, `__pub_pid` and
 * `__pub_tgt: salt-call`, so `call event.send` events carry them as Salt's
 * do. Unless `--local`, the return also goes to the master as
 * `salt/job/<jid>/ret/<id>`.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import { createLogger } from "../bus/log.ts";
import { genJid } from "../bus/jid.ts";
import { socketServices } from "../link/node_services.ts";
import { ArgumentError, CommandNotFoundError } from "../modules/errors.ts";
import { loadModules } from "../modules/loader.ts";
import { formatOutput } from "../output/outputter.ts";
import { outFrom, printOutput } from "./shared_options.ts";
import { returnLoad } from "../jobs/return_load.ts";
import { EXIT, type Values } from "./exit_codes.ts";
import { parseSaltArgs } from "./salt_args.ts";

/**
 * Runs `call` with its parsed options and the minion `config`; resolves the
 * exit code: 0, or 1 when the function is unknown, raised, or returned `false`.
 *
 * @example
 * ```ts
 * import { runCall } from "./call_command.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await runCall({ local: true }, ["test.ping"], resolveConfig("minion", { id: "web1", local: true }));
 * ```
 */
export async function runCall(
  values: Values,
  positionals: string[],
  config: BusConfig,
): Promise<number> {
  const [fun, ...rest] = positionals;
  if (fun === undefined) {
    throw new UsageError(
      "call needs a function, e.g. 'call test.ping' or 'call sys.list_functions'",
    );
  }
  const out = outFrom(values);
  const { args, kwargs } = parseSaltArgs(rest);
  const local = values.local === true || config.local === true;
  const opts: Record<string, unknown> = { ...config, __cli: "salt-call" };
  if (local) Object.assign(opts, { local: true, file_client: "local" });
  const log = createLogger(config.log_level);
  await using loader = await loadModules({ opts, log });
  if (!loader.has(fun)) {
    console.error(`'${fun}' is not available.`);
    return EXIT.failure;
  }
  const jid = genJid();
  const callKwargs = { ...kwargs };
  if (loader.acceptsKwargs(fun)) {
    Object.assign(callKwargs, {
      __pub_fun: fun,
      __pub_jid: jid,
      __pub_pid: Deno.pid,
      __pub_tgt: "salt-call",
    });
  }
  let result: unknown;
  let retcode = 0;
  try {
    result = await loader.call(fun, args, callKwargs);
    if (result === false) retcode = 1;
  } catch (err) {
    if (err instanceof CommandNotFoundError) {
      console.error(err.message);
      return EXIT.failure;
    }
    const message = err instanceof Error ? err.message : String(err);
    result = err instanceof ArgumentError
      ? `Passed invalid arguments to ${fun}: ${message}`
      : `Error running '${fun}': ${message}`;
    retcode = 1;
  }
  printOutput(formatOutput({ local: result }, out));
  if (!local) {
    const load = returnLoad({
      id: String(config.id ?? ""),
      jid,
      fun,
      args,
      kwargs,
      result,
      retcode,
    });
    await sendReturn(config, load, log);
  }
  return retcode === 0 ? EXIT.ok : EXIT.failure;
}

/** Sends salt-call's return to the master; a master that is not there is only logged. */
async function sendReturn(
  config: BusConfig,
  load: Record<string, unknown>,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  try {
    await socketServices.requestMaster(config, "_return", { load }, {
      hello: { role: "client", id: String(config.id ?? ""), pid: Deno.pid },
      timeoutMs: 2000,
    });
  } catch (err) {
    log.debug(`return not sent to the master: ${err instanceof Error ? err.message : err}`);
  }
}
