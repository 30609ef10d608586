/**
 * The errors of the execution-module loader: an unknown function, arguments
 * that do not fit a function, a loader used after it was closed.
 *
 * @module
 */
import { SaltbusError } from "../bus/errors.ts";

/**
 * An execution function that does not exist (or whose module was not
 * loaded). The message is Salt's: `'foo.bar' is not available.`
 *
 * @example
 * ```ts
 * import { CommandNotFoundError } from "./errors.ts";
 * const err = new CommandNotFoundError("foo.bar");
 * console.log(err.message); // "'foo.bar' is not available."
 * console.log(err.fun); // "foo.bar"
 * ```
 */
export class CommandNotFoundError extends SaltbusError {
  /** The function name that was asked for, e.g. `"foo.bar"`. */
  readonly fun: string;
  /** Creates the error for the function name `fun`. */
  constructor(fun: string, options?: ErrorOptions) {
    super(`'${fun}' is not available.`, options);
    this.name = "CommandNotFoundError";
    this.fun = fun;
  }
}

/**
 * Arguments that do not fit an execution function's parameters, with
 * Python's wording: `test.echo() missing 1 required positional argument:
 * 'text'`, `test.ping() takes 0 positional arguments but 1 was given`,
 * `event.send() got multiple values for argument 'tag'`, `test.ping() got an
 * unexpected keyword argument 'x'`.
 *
 * @example
 * ```ts
 * import { ArgumentError } from "./errors.ts";
 * const err = new ArgumentError("test.ping", "got an unexpected keyword argument 'x'");
 * console.log(err.message); // "test.ping() got an unexpected keyword argument 'x'"
 * ```
 */
export class ArgumentError extends SaltbusError {
  /** The function that was called, e.g. `"test.echo"`. */
  readonly fun: string;
  /** Creates the error: the message is `<fun>() <problem>`. */
  constructor(fun: string, problem: string, options?: ErrorOptions) {
    super(`${fun}() ${problem}`, options);
    this.name = "ArgumentError";
    this.fun = fun;
  }
}

/**
 * A loader (or a `Caller`) used after `close()`.
 *
 * @example
 * ```ts
 * import { LoaderClosedError } from "./errors.ts";
 * const err = new LoaderClosedError("the loader is closed");
 * console.log(err.name); // "LoaderClosedError"
 * ```
 */
export class LoaderClosedError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LoaderClosedError";
  }
}
