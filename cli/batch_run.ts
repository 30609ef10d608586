/**
 * `cli.ts <target> <fun> -b N` (`--batch-size`): Salt's batch run. The
 * target is pinged first; minions that do not answer are named and skipped
 * (`Minion web3 did not respond. No job will be sent.`). Then at most N
 * (or N% of the answering minions) run the function at once: as soon as
 * one returns, the next starts, each new set announced as
 * `Executing run on ['web1', 'web2']`. Each return prints as Salt prints
 * it, `{<id>: <return>, jid: <jid>, retcode: <n>}`.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { batchSize } from "../jobs/batch_size.ts";
import type { JobOptions, LocalClient, MinionReturn } from "../jobs/local_client.ts";

/** What {@linkcode runBatch} needs besides the client. */
export interface BatchRun {
  /** The target, as for a plain job. */
  tgt: string | string[];
  /** The function. */
  fun: string;
  /** Its positional arguments. */
  args: unknown[];
  /** Publish options (target type, keyword arguments, returners). */
  options: JobOptions;
  /** `-b`: `"10"` or `"25%"`. */
  batch: string;
  /** Seconds to wait for the ping and for each set's returns. */
  timeout: number;
  /** Prints one line of Salt's batch chatter (`Executing run on …`). */
  say: (line: string) => void;
}

/** One return of a batch run, with the jid of the set it ran in. */
export interface BatchReturn extends MinionReturn {
  /** The jid of its set. */
  jid: string;
}

/**
 * Salt's batch size (see jobs/batch_size.ts).
 *
 * @throws {UsageError} for anything but a count or a percentage (exit code 2).
 * @example
 * ```ts
 * import { batchSizeOf } from "./batch_run.ts";
 * batchSizeOf("25%", 10); // 2
 * ```
 */
export function batchSizeOf(batch: string, count: number): number {
  const size = batchSize(batch, count);
  if (typeof size === "string") throw new UsageError(size);
  return size;
}

/** Python's repr of a list of strings: `['a', 'b']`. */
function pythonList(ids: readonly string[]): string {
  return `[${
    ids.map((id) => `'${id.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`).join(", ")
  }]`;
}

/**
 * Runs a batch; yields each return as it comes. Yields nothing (after
 * saying `No minions matched the target.`) when no minion answers the ping.
 *
 * @example
 * ```ts
 * import { runBatch } from "./batch_run.ts";
 * import { LocalClient } from "../jobs/local_client.ts";
 * await using client = new LocalClient();
 * const run = { tgt: "web*", fun: "test.ping", args: [], options: {}, batch: "2", timeout: 5 };
 * for await (const ret of runBatch(client, { ...run, say: console.log })) console.log(ret.id);
 * ```
 */
export async function* runBatch(
  client: LocalClient,
  run: BatchRun,
): AsyncGenerator<BatchReturn> {
  const { options, say } = run;
  const ping = await client.publish(run.tgt, "test.ping", [], {
    tgtType: options.tgtType,
    user: options.user,
  });
  const up: string[] = [];
  for await (const r of client.returns(ping, run.timeout)) {
    if (r.missing === undefined) up.push(r.id);
  }
  up.sort();
  const size = batchSizeOf(run.batch, up.length);
  for (const id of ping.minions) {
    if (!up.includes(id)) say(`Minion ${id} did not respond. No job will be sent.`);
  }
  if (up.length === 0) {
    say("No minions matched the target.");
    return;
  }
  const toRun = [...up];
  // Returns of every set in flight, merged in arrival order.
  const arrived: (BatchReturn | { done: string[] })[] = [];
  let wake: (() => void) | null = null;
  const push = (item: BatchReturn | { done: string[] }) => {
    arrived.push(item);
    wake?.();
  };
  let active = 0;
  const start = async (ids: string[]) => {
    say(`\nExecuting run on ${pythonList(ids)}\n`);
    const job = await client.publish(ids, run.fun, run.args, { ...options, tgtType: "list" });
    (async () => {
      const seen = new Set<string>();
      try {
        for await (const r of client.returns(job, run.timeout)) {
          seen.add(r.id);
          push({ ...r, jid: job.jid });
        }
      } finally {
        push({ done: ids.filter((id) => !seen.has(id)) });
      }
    })();
  };
  let sets = 0;
  while (toRun.length > 0 || sets > 0) {
    if (active < size && toRun.length > 0) {
      const next = toRun.splice(0, size - active);
      active += next.length;
      sets++;
      await start(next);
    }
    while (arrived.length === 0) {
      await new Promise<void>((resolve) => wake = resolve);
      wake = null;
    }
    const item = arrived.shift()!;
    if ("done" in item) {
      // A set ended: minions that never returned free their places too.
      active -= item.done.length;
      sets--;
      continue;
    }
    active--;
    yield item;
  }
}
