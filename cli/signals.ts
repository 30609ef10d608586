/**
 * Waiting for a daemon's stop signal.
 *
 * @module
 */

/**
 * Resolves with the name of the first SIGINT or SIGTERM received, and
 * removes its listeners.
 *
 * @example
 * ```ts
 * import { untilStopSignal } from "./signals.ts";
 * const signal = await untilStopSignal(); // "SIGINT" after Ctrl-C
 * ```
 */
export async function untilStopSignal(): Promise<Deno.Signal> {
  const stop = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => stop.resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  const signal = await stop.promise;
  for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  return signal;
}
