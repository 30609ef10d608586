/**
 * Salt's eauth permissions (`external_auth: {saltbus: {alice: {perms: […]}}}`,
 * the `perms` a token carries), checked before a lowstate chunk runs:
 *
 * - **execution functions** (`local*` clients): a string allows the
 *   function on any target (`test.*`, `.*`, `grains.item`); a mapping
 *   `{<target>: [<functions>]}` allows them on minions matching `<target>`
 *   (a compound expression). A function entry may itself be a mapping
 *   `{<function>: {args: [...], kwargs: {...}}}` restricting its arguments.
 * - **runner and wheel functions**: `@runner` (or `@runners`), `@wheel`,
 *   `@<module>` (`@jobs`), or a mapping `{"@runner": [<functions>]}`,
 *   `{"@jobs": ["list_jobs"]}`.
 *
 * Patterns match as Salt's `expr_match`: the same text, a glob, or a
 * regular expression matching the whole name. Salt checks a target mapping
 * against the minions it resolves; saltbus, which checks before publishing,
 * allows it when every minion named by a `list` target (or a glob without
 * wildcards) matches, or when the target is the mapping's key itself, and
 * refuses otherwise: stricter, never looser.
 *
 * @module
 */
import { compileTarget, type TargetType } from "../jobs/target.ts";

/** What a chunk asks to run. */
export interface PermRequest {
  /** `local`, `runner` or `wheel` (the `_async`, `_batch`, `_subset` forms count as theirs). */
  form: "local" | "runner" | "wheel";
  /** The function. */
  fun: string;
  /** Positional arguments. */
  args: readonly unknown[];
  /** Keyword arguments. */
  kwargs: Readonly<Record<string, unknown>>;
  /** The target (local only). */
  tgt?: string | readonly string[];
  /** The target type (local only). */
  tgtType?: TargetType;
}

function fnmatchRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let set = glob.slice(i + 1, end).replaceAll("\\", "\\\\");
        if (set.startsWith("!")) set = "^" + set.slice(1);
        re += `[${set}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]\/]/g, "\\$&");
  }
  return new RegExp(`^(?:${re})$`, "s");
}

/**
 * Salt's `expr_match`: equal, a glob match, or a regex matching the whole
 * line.
 *
 * @example
 * ```ts
 * import { exprMatch } from "./perms.ts";
 * exprMatch("test.ping", "test.*"); // true
 * exprMatch("test.ping", ".*"); // true
 * exprMatch("cmd.run", "test.*"); // false
 * ```
 */
export function exprMatch(line: string, expr: string): boolean {
  if (line === expr) return true;
  if (fnmatchRegex(expr).test(line)) return true;
  try {
    return new RegExp(`^(?:${expr})$`, "s").test(line);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `arg` passes the `{args, kwargs}` restriction of one function entry. */
function argsAllowed(spec: unknown, req: PermRequest): boolean {
  if (!isRecord(spec)) return true;
  const args = spec.args;
  if (Array.isArray(args)) {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === null || args[i] === undefined) continue;
      if (i >= req.args.length || !exprMatch(String(req.args[i]), String(args[i]))) return false;
    }
  }
  const kwargs = spec.kwargs;
  if (isRecord(kwargs)) {
    for (const [key, pattern] of Object.entries(kwargs)) {
      if (!(key in req.kwargs) || !exprMatch(String(req.kwargs[key]), String(pattern))) {
        return false;
      }
    }
  }
  return true;
}

/** Salt's `__fun_check`: a pattern, or a list of patterns and `{pattern: {args, kwargs}}`. */
function funAllowed(valid: unknown, fun: string, req: PermRequest): boolean {
  const list = Array.isArray(valid) ? valid : [valid];
  for (const item of list) {
    if (typeof item === "string" && exprMatch(fun, item)) return true;
    if (isRecord(item)) {
      for (const [pattern, spec] of Object.entries(item)) {
        if (exprMatch(fun, pattern) && argsAllowed(spec, req)) return true;
      }
    }
  }
  return false;
}

/** Whether the local target is inside `key` (see the module notes). */
function targetInside(key: string, req: PermRequest): boolean {
  const { tgt, tgtType = "glob" } = req;
  if (tgt === undefined) return false;
  if (typeof tgt === "string" && tgt === key && (tgtType === "glob" || tgtType === "compound")) {
    return true;
  }
  let ids: string[] | null = null;
  if (tgtType === "list") {
    ids = (typeof tgt === "string" ? tgt.split(",") : [...tgt]).map((s) => s.trim()).filter(
      Boolean,
    );
  } else if (tgtType === "glob" && typeof tgt === "string" && !/[*?[\]]/.test(tgt)) ids = [tgt];
  if (ids === null || ids.length === 0) return false;
  try {
    const inside = compileTarget(key, "compound");
    return ids.every((id) => inside({ id }));
  } catch {
    return false;
  }
}

/**
 * Whether `perms` allow `req`, as Salt's `auth_check` (local) and
 * `spec_check` (runner, wheel).
 *
 * @example
 * ```ts
 * import { permitted } from "./perms.ts";
 * const perms = ["test.*", { "web*": ["grains.*"] }, "@jobs"];
 * permitted(perms, { form: "local", fun: "test.ping", args: [], kwargs: {}, tgt: "*" }); // true
 * permitted(perms, { form: "local", fun: "grains.item", args: [], kwargs: {}, tgt: "web1" }); // true
 * permitted(perms, { form: "local", fun: "grains.item", args: [], kwargs: {}, tgt: "db1" }); // false
 * permitted(perms, { form: "runner", fun: "jobs.list_jobs", args: [], kwargs: {} }); // true
 * permitted(perms, { form: "runner", fun: "manage.up", args: [], kwargs: {} }); // false
 * ```
 */
export function permitted(perms: readonly unknown[], req: PermRequest): boolean {
  if (req.form === "local") {
    for (const item of perms) {
      if (typeof item === "string") {
        if (!item.startsWith("@") && funAllowed(item, req.fun, req)) return true;
      } else if (isRecord(item)) {
        const keys = Object.keys(item);
        if (keys.length !== 1 || keys[0].startsWith("@")) continue;
        if (targetInside(keys[0], req) && funAllowed(item[keys[0]], req.fun, req)) return true;
      }
    }
    return false;
  }
  const dot = req.fun.indexOf(".");
  const mod = dot < 0 ? req.fun : req.fun.slice(0, dot);
  const name = dot < 0 ? "" : req.fun.slice(dot + 1);
  const isForm = (word: string) => word === req.form || word === `${req.form}s`;
  for (const item of perms) {
    if (typeof item === "string") {
      if (item.startsWith("@") && (item.slice(1) === mod || isForm(item.slice(1)))) return true;
    } else if (isRecord(item)) {
      const keys = Object.keys(item);
      if (keys.length !== 1 || !keys[0].startsWith("@")) continue;
      const word = keys[0].slice(1);
      if (word === mod && funAllowed(item[keys[0]], name, req)) return true;
      if (isForm(word) && funAllowed(item[keys[0]], req.fun, req)) return true;
    }
  }
  return false;
}
