/**
 * Missing Deno permissions, told as such: which access was refused and the
 * flag that grants it, never a YAML error, a wrong path or a silent `false`.
 *
 * @module
 */
import { SaltbusError } from "./errors.ts";

/** A Deno permission saltbus needed and was not granted. */
export class PermissionError extends SaltbusError {
  /** The flag that grants it, e.g. `--allow-env`. */
  readonly flag: string;

  /** Creates the error; `flag` is the `--allow-…` flag to add. */
  constructor(message: string, flag: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermissionError";
    this.flag = flag;
  }
}

/** The `--allow-…` flag a Deno permission error names, if it is one. */
function flagOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const notCapable = (Deno.errors as Record<string, unknown>).NotCapable as
    | (new () => Error)
    | undefined;
  const isPermission = (notCapable !== undefined && err instanceof notCapable) ||
    err.name === "NotCapable" || err.name === "PermissionDenied" &&
      /run again with the --allow-/.test(err.message);
  if (!isPermission) return undefined;
  return /--allow-[a-z-]+/.exec(err.message)?.[0] ?? "--allow-all";
}

/**
 * The {@linkcode PermissionError} for `err` when `err` (or its `cause`) is
 * Deno refusing a permission; `undefined` otherwise. `doing` says what
 * saltbus was doing, for the message.
 *
 * @example
 * ```ts
 * import { permissionError } from "./permission.ts";
 * try {
 *   Deno.env.get("HOME");
 * } catch (err) {
 *   const denied = permissionError(err, "reading HOME");
 *   if (denied) console.error(denied.message); // "reading HOME needs --allow-env: …"
 * }
 * ```
 */
export function permissionError(err: unknown, doing: string): PermissionError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof PermissionError) return e;
    const flag = flagOf(e);
    if (flag) {
      const what = e.message.replace(/, run again with the --allow-[a-z-]+ flag\.?$/, "");
      return new PermissionError(
        `${doing} needs ${flag}: ${what}; run deno with ${flag} (or use 'deno task cli', ` +
          `which grants saltbus's permissions)`,
        flag,
        { cause: err },
      );
    }
    e = e.cause;
  }
  return undefined;
}

/**
 * Runs `fn`; a permission refusal inside it becomes a
 * {@linkcode PermissionError} naming the flag, anything else is rethrown.
 *
 * @example
 * ```ts
 * import { withPermission } from "./permission.ts";
 * const home = withPermission("reading HOME", () => Deno.env.get("HOME"));
 * ```
 */
export function withPermission<T>(doing: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw permissionError(err, doing) ?? err;
  }
}
