/**
 * A small levelled logger: saltbus logs through it so that a daemon, a test
 * and a worker can each decide where lines go.
 *
 * @module
 */

/** Log levels, most verbose first (Salt's names). */
export type LogLevel = "debug" | "info" | "warning" | "error" | "quiet";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3, quiet: 4 };

/** Where saltbus sends log lines. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string): void;
  /** Normal operation (where a daemon listens, who connected). */
  info(message: string): void;
  /** Something went wrong for one peer or one event; the bus carries on. */
  warning(message: string): void;
  /** Something failed that an operator should look at. */
  error(message: string): void;
}

/**
 * Checks a `log_level` value.
 *
 * @example
 * ```ts
 * import { isLogLevel } from "./log.ts";
 * isLogLevel("info"); // true
 * ```
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && value in RANK;
}

/** The levels a message can have. */
export type MessageLevel = Exclude<LogLevel, "quiet">;

/**
 * Formats a log line as saltbus writes it: `[saltbus <level>] <message>`.
 *
 * @example
 * ```ts
 * import { formatLogLine } from "./log.ts";
 * formatLogLine("info", "listening"); // "[saltbus info] listening"
 * ```
 */
export function formatLogLine(level: MessageLevel, message: string): string {
  return `[saltbus ${level}] ${message}`;
}

/**
 * Creates a logger passing messages at or above `level` to `write`
 * (default: a formatted line on standard error).
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("info", (level, message) => lines.push(`${level}: ${message}`));
 * log.debug("hidden");
 * log.info("shown"); // lines == ["info: shown"]
 * ```
 */
export function createLogger(
  level: LogLevel = "warning",
  write: (level: MessageLevel, message: string) => void = (lvl, message) =>
    console.error(formatLogLine(lvl, message)),
): Logger {
  const at = (name: MessageLevel) =>
    RANK[name] >= RANK[level] ? (message: string) => write(name, message) : () => {};
  return { debug: at("debug"), info: at("info"), warning: at("warning"), error: at("error") };
}

/**
 * A logger that drops everything.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./log.ts";
 * silentLogger.error("nobody hears this");
 * ```
 */
export const silentLogger: Logger = createLogger("quiet");
