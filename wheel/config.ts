/**
 * The wheel's `config` functions (Salt's `salt/wheel/config.py`).
 *
 * @module
 */
import { isMapping } from "../bus/mapping.ts";
import type { WheelContext } from "./wheel_context.ts";

/** What a password (hash) in `external_auth` is shown as. */
export const HIDDEN = "<hidden>";

function hidePasswords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hidePasswords);
  if (!isMapping(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key === "password" && typeof v === "string" ? HIDDEN : hidePasswords(v);
  }
  return out;
}

/**
 * Salt's `config.values`: the master's configuration (its `__opts__`).
 * Unlike Salt, the password hashes of `external_auth` are shown as
 * `<hidden>`: a token with wheel rights should not read them.
 *
 * CLI Example: `wheel.cmd('config.values')`
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { values } from "./config.ts";
 * declare const ctx: WheelContext;
 * values.call(ctx).sock_dir; // "/run/user/1000/saltbus/master"
 * ```
 */
export function values(this: WheelContext): Record<string, unknown> {
  const opts = structuredClone(this.opts) as unknown as Record<string, unknown>;
  if ("external_auth" in opts) opts.external_auth = hidePasswords(opts.external_auth);
  return opts;
}
