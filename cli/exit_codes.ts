/**
 * Exit codes and parsed option values shared by the CLI's commands.
 *
 * @module
 */

/** Exit codes: 0 ok, 1 failure (bus unreachable, event not sent), 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Parsed command-line options, by long name. */
export type Values = Record<string, string | boolean | undefined>;
