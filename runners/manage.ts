/**
 * The `manage` runners: which minions the master sees, asked over its link,
 * and which saltbus version each connected minion runs.
 *
 * @module
 */
import { VERSION } from "../bus/version.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { askMaster as ask } from "./minion_cache.ts";
import type { RunnerContext } from "./runner_context.ts";

/**
 * Salt's `manage.up`: the ids of the minions connected now.
 *
 * CLI Example: `cli.ts run manage.up`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { up } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await up.call(ctx)); // ["db1", "web1"]
 * ```
 */
export function up(this: RunnerContext): Promise<unknown> {
  return ask(this, "up");
}

/**
 * Salt's `manage.down`: minions the master has seen that are gone.
 *
 * CLI Example: `cli.ts run manage.down`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { down } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await down.call(ctx)); // ["old1"]
 * ```
 */
export function down(this: RunnerContext): Promise<unknown> {
  return ask(this, "down");
}

/**
 * Salt's `manage.status`: `{up: [...], down: [...]}`.
 *
 * CLI Example: `cli.ts run manage.status`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { status } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await status.call(ctx)); // { up: ["web1"], down: [] }
 * ```
 */
export function status(this: RunnerContext): Promise<unknown> {
  return ask(this, "status");
}

/** Compares dotted versions numerically (`-1`, `0`, `1`), as Salt's `SaltStackVersion`. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

const LABELS: Record<number, string> = {
  [-2]: "Minion offline",
  [-1]: "Minion requires update",
  0: "Up to date",
  1: "Minion newer than master",
};

/**
 * Salt's `manage.versions`: runs `test.version` on every minion (timeout
 * `timeout`, default 5 s) and sorts the answers against the master's
 * version: `{"Up to date": {id: version}, "Minion requires update": {…},
 * "Minion newer than master": {…}, "Master": version}`; a minion that
 * answers nothing truthy is under `"Minion offline"` with `false`. Minions
 * that do not answer in time are left out, as in Salt.
 *
 * CLI Example: `cli.ts run manage.versions`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { versions } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await versions.call(ctx)); // { "Up to date": { web1: "0.1.0" }, Master: "0.1.0" }
 * ```
 */
export async function versions(this: RunnerContext): Promise<Record<string, unknown>> {
  await using client = new LocalClient({
    opts: this.opts as unknown as Record<string, unknown>,
    services: this.services,
    log: this.log,
  });
  const timeout = typeof this.opts.timeout === "number" ? this.opts.timeout : 5;
  const minions = await client.cmd("*", "test.version", [], { timeout, user: "saltbus-runner" });
  const ret: Record<string, unknown> = {};
  for (const id of Object.keys(minions).sort()) {
    const version = minions[id];
    const diff = version ? compareVersions(String(version), VERSION) : -2;
    const group = (ret[LABELS[diff]] ??= {}) as Record<string, unknown>;
    group[id] = version ? String(version) : false;
  }
  ret.Master = VERSION;
  return ret;
}
