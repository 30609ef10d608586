/**
 * The built-in `test` execution module (Salt's `salt/modules/test.py`):
 * functions to check that the loader and the minion answer.
 *
 * @module
 */
import { delay } from "../bus/async.ts";
import { VERSION } from "../bus/version.ts";

/**
 * Returns `true`: used to check that the minion answers.
 *
 * CLI example: `saltbus call test.ping`
 *
 * @example
 * ```ts
 * import { ping } from "./test.ts";
 * ping(); // true
 * ```
 */
export function ping(): boolean {
  return true;
}

/**
 * Returns the string it is given.
 *
 * CLI example: `saltbus call test.echo 'foo bar baz'`
 *
 * @example
 * ```ts
 * import { echo } from "./test.ts";
 * echo("foo bar baz"); // "foo bar baz"
 * ```
 */
export function echo(text: unknown): unknown {
  return text;
}

/**
 * Returns the positional and keyword arguments it was called with, as
 * `{args: [...], kwargs: {...}}`; keyword arguments starting with `__` (such
 * as `__pub_jid`) are left out, as Salt does.
 *
 * CLI example: `saltbus call test.arg 1 "two" 3.1 txt="hello" wow='{a: 1, b: "hello"}'`
 *
 * @example
 * ```ts
 * import { arg } from "./test.ts";
 * arg({ txt: "hello", __pub_jid: "1" }, 1, "two"); // { args: [1, "two"], kwargs: { txt: "hello" } }
 * ```
 */
export function arg(
  kwargs: Record<string, unknown> = {},
  ...args: unknown[]
): { args: unknown[]; kwargs: Record<string, unknown> } {
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(kwargs)) {
    if (key.startsWith("__")) continue;
    Object.defineProperty(kept, key, {
      value: kwargs[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { args, kwargs: kept };
}

/**
 * Returns the saltbus version.
 *
 * CLI example: `saltbus call test.version`
 *
 * @example
 * ```ts
 * import { version } from "./test.ts";
 * version(); // "0.1.0"
 * ```
 */
export function version(): string {
  return VERSION;
}

/**
 * Sleeps `length` seconds (a number or a numeric string), then returns
 * `true`.
 *
 * CLI example: `saltbus call test.sleep 20`
 *
 * @example
 * ```ts
 * import { sleep } from "./test.ts";
 * await sleep(0.01); // true
 * ```
 */
export async function sleep(length: unknown): Promise<boolean> {
  const seconds = typeof length === "number" ? length : Number(String(length).trim());
  if (!Number.isFinite(seconds) || seconds < 0 || String(length).trim() === "") {
    throw new TypeError(
      `test.sleep: length must be a number of seconds, got ${JSON.stringify(length)}`,
    );
  }
  await delay(seconds * 1000);
  return true;
}
