/**
 * The `event` runners: `event.send`, straight onto the master bus.
 *
 * @module
 */
import { BusUnreachableError, EventDataError, UsageError } from "../bus/errors.ts";
import type { RunnerContext } from "./runner_context.ts";

/**
 * Salt's `event.send` runner: fires `data` (a mapping) under `tag` on the
 * master bus. Resolves `true` once sent.
 *
 * CLI Example: `cli.ts run event.send myco/mytag/success '{success: True}'`
 *
 * @throws {UsageError} for a bad tag or data that is not a mapping.
 * @throws {BusUnreachableError} when no master bus listens.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { send } from "./event.ts";
 * declare const ctx: RunnerContext;
 * await send.call(ctx, "myco/mytag/success", { success: true });
 * ```
 */
export async function send(this: RunnerContext, tag: unknown, data: unknown = null) {
  const payload = data ?? {};
  if (typeof payload !== "object" || Array.isArray(payload)) {
    throw new UsageError(
      `event.send: data must be a mapping such as '{"key": "value"}', not ${
        JSON.stringify(payload)
      }`,
    );
  }
  await using client = this.services.eventClient(this.opts, this.log, { listen: false });
  let sent: boolean;
  try {
    sent = await client.fireEvent(payload as Record<string, unknown>, String(tag));
  } catch (err) {
    if (err instanceof EventDataError) throw new UsageError(`event.send: ${err.message}`);
    throw err;
  }
  if (!sent) {
    throw new BusUnreachableError(
      `no master bus listening at ${client.location}: the event was not sent`,
    );
  }
  await client.flush();
  return true;
}
