/**
 * The named errors saltbus throws: one subclass per failure mode, each with
 * `name` set, the original error kept as `cause`, and a message that says
 * what was wrong and what to do.
 *
 * @module
 */

/**
 * Base class of every saltbus error, so callers can catch them all at once.
 *
 * @example
 * ```ts
 * import { SaltbusError } from "./errors.ts";
 * try {
 *   throw new SaltbusError("something went wrong");
 * } catch (e) {
 *   if (e instanceof SaltbusError) console.error(e.message);
 * }
 * ```
 */
export class SaltbusError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SaltbusError";
  }
}

/**
 * Event data or a tag that cannot be fired: data that is not a mapping, an
 * empty tag, a tag containing `"\n\n"`, or a value msgpack cannot carry.
 *
 * @example
 * ```ts
 * import { EventDataError } from "./errors.ts";
 * const err = new EventDataError("Empty tag.");
 * console.log(err.name); // "EventDataError"
 * ```
 */
export class EventDataError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventDataError";
  }
}

/**
 * Bytes on an event socket that are not a valid Salt frame (§2.4), or a
 * frame larger than `max_frame_size`.
 *
 * @example
 * ```ts
 * import { FrameError } from "./errors.ts";
 * const err = new FrameError("frame is not a msgpack map");
 * console.log(err.name); // "FrameError"
 * ```
 */
export class FrameError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
  }
}

/**
 * A configuration file or option that cannot be used; the message names the
 * option and the file.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError("max_event_size in /etc/saltbus/master: expected a positive integer");
 * console.log(err.name); // "ConfigError"
 * ```
 */
export class ConfigError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/**
 * A broker cannot listen: the socket path is held by a live broker, or the
 * `sock_dir` cannot be created or written.
 *
 * @example
 * ```ts
 * import { BrokerStartError } from "./errors.ts";
 * const err = new BrokerStartError("a broker is already listening on /tmp/x/master_event_pub.ipc");
 * console.log(err.name); // "BrokerStartError"
 * ```
 */
export class BrokerStartError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokerStartError";
  }
}

/**
 * The event bus could not be reached (no broker listening on the socket).
 *
 * @example
 * ```ts
 * import { BusUnreachableError } from "./errors.ts";
 * const err = new BusUnreachableError("no master bus at /tmp/x/master_event_pull.ipc");
 * console.log(err.name); // "BusUnreachableError"
 * ```
 */
export class BusUnreachableError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BusUnreachableError";
  }
}

/**
 * A tag match type that does not exist (valid: `startswith`, `endswith`,
 * `find`, `regex`, `fnmatch`), or a regex pattern that does not compile.
 *
 * @example
 * ```ts
 * import { MatchTypeError } from "./errors.ts";
 * const err = new MatchTypeError("unknown match type 'glob'");
 * console.log(err.name); // "MatchTypeError"
 * ```
 */
export class MatchTypeError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MatchTypeError";
  }
}

/**
 * A command-line usage mistake: unknown command or option, bad argument.
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 * const err = new UsageError("unknown command 'frob'; see --help");
 * console.log(err.name); // "UsageError"
 * ```
 */
export class UsageError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}
