/**
 * `cli.ts key …`: Salt's `salt-key`. Lists, accepts, rejects, deletes and
 * fingerprints the minion keys in the master's `pki_dir` (see
 * {@linkcode pkiDirOf}), asking before it changes anything unless `-y`.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { UsageError } from "../bus/errors.ts";
import {
  type KeyDir,
  type KeyMatch,
  KeyRegistry,
  type KeysByState,
  pkiDirOf,
} from "../link/key_registry.ts";
import { formatOutput, isOutputterName, OUTPUTTERS } from "../output/outputter.ts";
import { EXIT, type Values } from "./exit_codes.ts";

/**
 * Options of the key command (besides the common ones), with salt-key's
 * names and letters.
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import { KEY_OPTIONS } from "./key_command.ts";
 * parseArgs({ args: ["-a", "web1", "-y"], options: KEY_OPTIONS }).values; // { accept: "web1", yes: true }
 * ```
 */
export const KEY_OPTIONS = {
  "list-all": { type: "boolean", short: "L" },
  accept: { type: "string", short: "a" },
  "accept-all": { type: "boolean", short: "A" },
  reject: { type: "string", short: "r" },
  "reject-all": { type: "boolean", short: "R" },
  delete: { type: "string", short: "d" },
  "delete-all": { type: "boolean", short: "D" },
  finger: { type: "string", short: "f" },
  "finger-all": { type: "boolean", short: "F" },
  yes: { type: "boolean", short: "y" },
  "include-rejected": { type: "boolean" },
  "include-denied": { type: "boolean" },
  "include-accepted": { type: "boolean" },
  "include-all": { type: "boolean" },
  out: { type: "string" },
} as const;

/**
 * Where the key command writes and reads: `stdout` gets text as is (the
 * prompt has no newline), `stdin` answers one line (`null` at end of
 * input). Defaults: the process's standard output and input.
 *
 * @example
 * ```ts
 * import type { KeyCommandIo } from "./key_command.ts";
 * let printed = "";
 * const io: KeyCommandIo = { stdout: (s) => (printed += s), stdin: () => Promise.resolve("y") };
 * ```
 */
export interface KeyCommandIo {
  /** Writes text as is. */
  stdout?: (s: string) => void;
  /** Reads one line (without its newline), `null` at end of input. */
  stdin?: () => Promise<string | null>;
}

type Action = "list" | "accept" | "reject" | "delete" | "finger";

/** Each action's flags: the one taking a glob, the `-X` one meaning `*`. */
const ACTIONS: readonly [Action, string | null, string][] = [
  ["accept", "accept", "accept-all"],
  ["reject", "reject", "reject-all"],
  ["delete", "delete", "delete-all"],
  ["finger", "finger", "finger-all"],
  ["list", null, "list-all"],
];

/** salt-key's headings, in the order it prints them (its state names sorted). */
const HEADINGS: readonly [KeyDir, string][] = [
  ["minions", "Accepted Keys:"],
  ["minions_denied", "Denied Keys:"],
  ["minions_pre", "Unaccepted Keys:"],
  ["minions_rejected", "Rejected Keys:"],
];

/**
 * Runs salt-key: `-L` (the default) lists every key; `-a`/`-A`, `-r`/`-R`,
 * `-d`/`-D` accept, reject or delete the keys a glob names (all with the
 * capital letter), after showing them and asking `Proceed?` unless `-y`;
 * `-f`/`-F` print fingerprints. `--out json` prints the list or the
 * fingerprints as JSON. Resolves 0, as salt-key, also when a glob matches
 * nothing or the answer is no.
 *
 * @throws {UsageError} for two actions at once, an empty glob, positional arguments or a bad `--out`.
 * @example
 * ```ts
 * import { runKeyCommand } from "./key_command.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await runKeyCommand({ accept: "web1", yes: true }, [], resolveConfig("master", {}));
 * // Key for minion web1 accepted.
 * ```
 */
export async function runKeyCommand(
  values: Values,
  positionals: string[],
  config: BusConfig,
  io: KeyCommandIo = {},
): Promise<number> {
  const write = io.stdout ?? writeStdout;
  const readLine = io.stdin ?? readStdinLine;
  if (positionals.length > 0) {
    throw new UsageError(
      `key takes no arguments, got '${positionals[0]}'; name keys with -a, -r, -d or -f`,
    );
  }
  const chosen: [Action, string][] = [];
  for (const [action, globFlag, allFlag] of ACTIONS) {
    if (globFlag !== null && values[globFlag] !== undefined) {
      const glob = String(values[globFlag]);
      if (glob.trim() === "") {
        throw new UsageError(`--${globFlag} needs a minion id or glob such as 'web*'`);
      }
      chosen.push([action, glob]);
    }
    if (values[allFlag] === true) chosen.push([action, "*"]);
  }
  if (chosen.length > 1) {
    const flags = ACTIONS.flatMap(([, g, a]) => [g, a]).filter((f) =>
      f !== null && values[f] !== undefined && values[f] !== false
    );
    throw new UsageError(`key takes one action at a time, got --${flags.join(" and --")}`);
  }
  const [action, match] = chosen[0] ?? ["list", "*"];
  const out = outOf(values);
  const keys = await KeyRegistry.open(pkiDirOf(config));

  if (action === "list") {
    const list = await keys.list();
    write(out === "key" ? formatKeys(list) : formatOutput(list, out));
    return EXIT.ok;
  }
  if (action === "finger") {
    const prints = await keys.finger(match);
    if (values["finger-all"] === true) {
      for (const [dir] of HEADINGS) prints[dir] ??= {};
    }
    write(out === "key" ? formatKeys(prints) : formatOutput(prints, out));
    return EXIT.ok;
  }

  const include = {
    rejected: values["include-rejected"] === true || values["include-all"] === true,
    accepted: values["include-accepted"] === true || values["include-all"] === true,
    denied: values["include-denied"] === true,
  };
  if (action === "accept") include.accepted = false;
  if (action === "reject") include.rejected = false;
  const matched = await keys.match(match);
  const shown = action === "delete" ? matched : filterStates(matched, include);
  if (Object.keys(shown).length === 0) {
    write(`${noMatchMessage(match, include)}\n`);
    return EXIT.ok;
  }
  const verb = `${action.replace(/e$/, "")}ed`;
  write(`The following keys are going to be ${verb}:\n${formatKeys(shown)}`);
  if (values.yes !== true) {
    write(action === "delete" ? "Proceed? [N/y] " : "Proceed? [n/Y] ");
    const answer = await readLine();
    // End of input is no answer at all: nothing changes.
    if (answer === null) {
      write("\n");
      return EXIT.ok;
    }
    const yes = (answer.trim() || (action === "delete" ? "n" : "y")).toLowerCase();
    if (!yes.startsWith("y")) return EXIT.ok;
  }
  let done: KeysByState;
  if (action === "accept") {
    done = await keys.accept(shown as KeyMatch, {
      includeRejected: include.rejected,
      includeDenied: include.denied,
    });
  } else if (action === "reject") {
    done = await keys.reject(shown as KeyMatch, {
      includeAccepted: include.accepted,
      includeDenied: include.denied,
    });
  } else {
    done = await keys.delete(shown as KeyMatch);
  }
  for (const [dir] of HEADINGS) {
    for (const id of done[dir] ?? []) write(`Key for minion ${id} ${verb}.\n`);
  }
  return EXIT.ok;
}

/** `--out`: `key` (salt-key's own, the default) or one of saltbus's outputters. */
function outOf(values: Values): "key" | (typeof OUTPUTTERS)[number] {
  const out = values.out === undefined ? "key" : String(values.out);
  if (out === "key") return out;
  if (!isOutputterName(out)) {
    throw new UsageError(`--out must be one of key, ${OUTPUTTERS.join(", ")}, not '${out}'`);
  }
  return out;
}

/** salt-key's `_filter_ret`: the pending keys, and the included states' ones. */
function filterStates(
  matched: KeysByState,
  include: { rejected: boolean; accepted: boolean; denied: boolean },
): KeysByState {
  const ret: KeysByState = {};
  if (matched.minions_pre) ret.minions_pre = matched.minions_pre;
  if (include.accepted && matched.minions) ret.minions = matched.minions;
  if (include.rejected && matched.minions_rejected) {
    ret.minions_rejected = matched.minions_rejected;
  }
  if (include.denied && matched.minions_denied) ret.minions_denied = matched.minions_denied;
  return ret;
}

/** salt-key's message when a glob names no key it would act on. */
function noMatchMessage(
  match: string,
  include: { rejected: boolean; accepted: boolean; denied: boolean },
): string {
  const states = ["unaccepted"];
  if (include.accepted) states.push("accepted");
  if (include.rejected) states.push("rejected");
  if (include.denied) states.push("denied");
  const which = states.length === 1
    ? states[0]
    : `${states.slice(0, -1).join(", ")} or ${states[states.length - 1]}`;
  return `The key glob '${match}' does not match any ${which} keys.`;
}

/**
 * Salt's `key` outputter: each state present in `data` under its heading
 * (Accepted, Denied, Unaccepted, Rejected), then its ids one a line, or
 * `id:  value` for a mapping (fingerprints).
 *
 * @example
 * ```ts
 * import { formatKeys } from "./key_command.ts";
 * formatKeys({ minions: ["web1"], minions_pre: [] }); // "Accepted Keys:\nweb1\nUnaccepted Keys:\n"
 * formatKeys({ minions: { web1: "ab:cd" } }); // "Accepted Keys:\nweb1:  ab:cd\n"
 * ```
 */
export function formatKeys(
  data: Partial<Record<KeyDir, readonly string[] | Readonly<Record<string, string>>>>,
): string {
  let text = "";
  for (const [dir, heading] of HEADINGS) {
    const keys = data[dir];
    if (keys === undefined) continue;
    text += `${heading}\n`;
    if (Array.isArray(keys)) {
      for (const id of keys) text += `${id}\n`;
    } else {
      for (const [id, value] of Object.entries(keys)) text += `${id}:  ${value}\n`;
    }
  }
  return text;
}

const encoder = new TextEncoder();

function writeStdout(s: string): void {
  const bytes = encoder.encode(s);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** Reads one line from standard input, a byte at a time so nothing past it is consumed. */
async function readStdinLine(): Promise<string | null> {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  for (;;) {
    const n = await Deno.stdin.read(one);
    if (n === null) {
      return bytes.length === 0 ? null : new TextDecoder().decode(new Uint8Array(bytes));
    }
    if (n === 0) continue;
    if (one[0] === 0x0a) break;
    bytes.push(one[0]);
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}
