/**
 * `run state.event` (Salt's runner, §5) and the `watch` short form: print
 * bus events as they arrive.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import { exprMatch } from "../bus/tag_match.ts";
import { pythonJsonDumps } from "../output/python_json.ts";

/** What `state.event` prints per event. */
export type EventFormat = "salt" | "json";

/** Options of {@linkcode watchEvents}, with `state.event`'s meaning. */
export interface WatchOptions {
  /** fnmatch glob, or a full-string regex; default `*` (everything). */
  tagmatch?: string;
  /** Stop after this many matches; negative = forever; `0` behaves like `1` (as Salt). */
  count?: number;
  /** Print nothing (still counts). */
  quiet?: boolean;
  /** Sorted keys and 4-space indent. */
  pretty?: boolean;
  /** `salt` (`<tag>\t<json>`, default) or `json` (one `{"tag", "data"}` object per line). */
  format?: EventFormat;
  /** Where lines go (default standard output). */
  write?: (line: string) => void;
  /** Stops watching. */
  signal?: AbortSignal;
}

/**
 * Formats one event as `state.event` prints it: `<tag>\t<json of data>`,
 * Python's separators, key order kept; `pretty` sorts keys and indents by 4.
 *
 * @example
 * ```ts
 * import { formatStateEvent } from "./state_event.ts";
 * formatStateEvent("salt/auth", { a: 1, _stamp: "2024-05-01T12:34:56.789012" }, false);
 * // 'salt/auth\t{"a": 1, "_stamp": "2024-05-01T12:34:56.789012"}'
 * ```
 */
export function formatStateEvent(tag: string, data: unknown, pretty: boolean): string {
  return `${tag}\t${pythonJsonDumps(data, pretty ? { sortKeys: true, indent: 4 } : {})}`;
}

/**
 * Prints matching events from `client` until `count` is reached or
 * `signal` aborts; returns how many were printed. Reconnects by itself when
 * the bus restarts (`auto_reconnect`, as Salt's runner).
 *
 * @example
 * ```ts
 * import { getEvent } from "../transport/get_event.ts";
 * import { watchEvents } from "./state_event.ts";
 * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
 * await watchEvents(ev, { tagmatch: "salt/job/*", count: 1 });
 * ```
 */
export async function watchEvents(
  client: EventClient,
  options: WatchOptions = {},
): Promise<number> {
  const tagmatch = options.tagmatch ?? "*";
  let count = options.count ?? -1;
  const write = options.write ?? writeStdout;
  let printed = 0;
  const events = client.iterEvents({ full: true, autoReconnect: true, signal: options.signal });
  for await (const event of events) {
    if (!exprMatch(event.tag, tagmatch)) continue;
    if (!options.quiet) {
      write(
        options.format === "json"
          ? pythonJsonDumps({ tag: event.tag, data: event.data })
          : formatStateEvent(event.tag, event.data, options.pretty ?? false),
      );
    }
    printed++;
    if (count > 0) count--;
    if (count === 0) break;
  }
  return printed;
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let at = 0;
  while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
}
