/**
 * The `state` runners: `state.event`, Salt's event watcher (spec §5).
 *
 * @module
 */
import { BusUnreachableError, UsageError } from "../bus/errors.ts";
import { validatePattern } from "../bus/tag_match.ts";
import type { RunnerContext } from "./runner_context.ts";
import { watchEvents } from "./state_event.ts";

/**
 * Salt's `state.event`: prints `<tag>\t<json>` for each event whose tag
 * matches `tagmatch` (fnmatch glob, or a full-string regex), `count` times
 * (negative: forever; `0` acts like `1`, as in Salt). Resolves `true` when
 * it stops.
 *
 * CLI Example: `cli.ts run state.event 'salt/job/*' count=2 pretty=True`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { event } from "./state.ts";
 * declare const ctx: RunnerContext;
 * await event.call(ctx, "salt/job/*", 1);
 * ```
 */
export async function event(
  this: RunnerContext,
  tagmatch: unknown = "*",
  count: unknown = -1,
  quiet: unknown = false,
  sock_dir: unknown = null,
  pretty: unknown = false,
  node: unknown = "master",
): Promise<boolean> {
  if (typeof count !== "number" || !Number.isInteger(count)) {
    throw new UsageError(`state.event: count must be an integer, not '${count}'`);
  }
  for (const [name, flag] of [["quiet", quiet], ["pretty", pretty]] as const) {
    if (typeof flag !== "boolean") {
      throw new UsageError(`state.event: ${name} must be True or False, not '${flag}'`);
    }
  }
  if (node !== "master" && node !== "minion") {
    throw new UsageError(`node must be master or minion, not '${node}'`);
  }
  const pattern = String(tagmatch);
  try {
    validatePattern(pattern, "fnmatch");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const config = await this.configFor(
    node,
    sock_dir === null || sock_dir === undefined ? {} : { sock_dir: String(sock_dir) },
  );
  await using client = this.services.eventClient(config, this.log);
  if (!(await client.connected(5))) {
    throw new BusUnreachableError(
      `no ${node} bus listening at ${client.location}: start one with 'deno task start' or ` +
        `point --sock-dir/--config at it`,
    );
  }
  this.log.info(`watching ${client.location}`);
  try {
    await watchEvents(client, {
      tagmatch: pattern,
      count,
      quiet: quiet as boolean,
      pretty: pretty as boolean,
      format: "salt",
      write: this.print,
      signal: this.signal,
    });
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
  return true;
}
