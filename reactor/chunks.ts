/**
 * Reactions as Salt's state compiler sees them (spec §12.5–§12.7): high data
 * → low chunks (`state`, `fun`, `__id__`, `name`, `__sls__`, `order` and one
 * key per argument), `cmd` → `local`, and each chunk's call in the old or
 * the new argument syntax.
 *
 * @module
 */
import { isMapping } from "../bus/mapping.ts";
import type { HighData } from "./render.ts";

/** One compiled reaction. */
export interface LowChunk {
  /** `local`, `runner`, `wheel`, `caller` (or an unknown type, refused at dispatch). */
  state: string;
  /** The function, everything after the first dot. */
  fun: string;
  /** The ID in the file. */
  __id__: string;
  /** The ID, unless the file passes its own `name`. */
  name: unknown;
  /** The file it came from. */
  __sls__: string;
  /** 1, 2, … in definition order. */
  order: number;
  /** The argument items. */
  [key: string]: unknown;
}

/**
 * Salt's `verify_high` + `compile_high_data` + `resolve_aliases`: the
 * chunks, or the errors (then nothing runs for the event).
 *
 * @example
 * ```ts
 * import { compileReactions } from "./chunks.ts";
 * const { chunks } = compileReactions({
 *   ping: { "local.test.ping": [{ tgt: "*" }], __sls__: "/srv/r.sls" },
 * });
 * // [{ state: "local", fun: "test.ping", __id__: "ping", name: "ping", __sls__: "/srv/r.sls", order: 1, tgt: "*" }]
 * ```
 */
export function compileReactions(high: HighData): { chunks: LowChunk[]; errors: string[] } {
  const chunks: LowChunk[] = [];
  const errors: string[] = [];
  let order = 0;
  for (const [id, body] of Object.entries(high)) {
    if (!isMapping(body)) {
      errors.push(`ID ${id} is not a dictionary`);
      continue;
    }
    const sls = String(body.__sls__ ?? "");
    const decls = Object.keys(body).filter((k) => !k.startsWith("__"));
    if (decls.length === 0) {
      errors.push(`No function declared in ID ${id} of SLS ${sls}`);
      continue;
    }
    for (const decl of decls) {
      const dot = decl.indexOf(".");
      if (dot <= 0 || dot === decl.length - 1) {
        errors.push(
          `ID ${id} in SLS ${sls}: '${decl}' is not a reaction such as local.test.ping`,
        );
        continue;
      }
      const args = body[decl] ?? [];
      if (!Array.isArray(args)) {
        errors.push(`The arguments of ${decl} in ID ${id} of SLS ${sls} are not formed as a list`);
        continue;
      }
      const state = decl.slice(0, dot);
      const chunk: LowChunk = {
        state: state === "cmd" ? "local" : state,
        fun: decl.slice(dot + 1),
        __id__: id,
        name: id,
        __sls__: sls,
        order: ++order,
      };
      let bad = false;
      for (const item of args) {
        if (!isMapping(item) || Object.keys(item).length !== 1) {
          errors.push(
            `ID ${id} in SLS ${sls}: argument ${JSON.stringify(item)} of ${decl} ` +
              `is not a single-key mapping such as 'tgt: "*"'`,
          );
          bad = true;
          break;
        }
        const [key] = Object.keys(item);
        chunk[key] = item[key];
      }
      if (!bad) chunks.push(chunk);
    }
  }
  return { chunks: errors.length > 0 ? [] : chunks, errors };
}

/** What a chunk asks to call (§12.7 steps 3–6). */
export interface ReactionCall {
  /** The reaction type. */
  type: string;
  /** The function. */
  fun: string;
  /** The target (local). */
  tgt?: unknown;
  /** Positional arguments. */
  arg: unknown[];
  /** Keyword arguments. */
  kwarg: Record<string, unknown>;
  /** The other chunk keys (metadata, `tgt_type`, `ret`, …). */
  kw: Record<string, unknown>;
  /** Warnings to log (Salt's texts). */
  warnings: string[];
  /** Set when the reaction must be skipped (Salt's text). */
  error?: string;
}

const META = new Set(["__id__", "__sls__", "name", "order", "fun", "key", "state"]);

/**
 * Maps a chunk onto its call, as `ReactWrap.run`: the new syntax (`args`)
 * makes everything keyword arguments; the old syntax keeps `arg`/`kwarg`,
 * and for runners without them maps the chunk's keys onto the function's
 * parameter names (`params`; `kwargs` true takes every other key).
 *
 * @example
 * ```ts
 * import { shapeCall } from "./chunks.ts";
 * const call = shapeCall({
 *   state: "local", fun: "test.arg", __id__: "x", name: "x", __sls__: "/r.sls", order: 1,
 *   tgt: "*", args: [{ a: 1 }],
 * });
 * // call.arg: [], call.kwarg: { a: 1 }
 * ```
 */
export function shapeCall(
  chunk: LowChunk,
  params?: { names: readonly (string | null)[]; kwargs: boolean },
): ReactionCall {
  const { state: type, fun } = chunk;
  const kw: Record<string, unknown> = { ...chunk };
  delete kw.fun;
  const call: ReactionCall = { type, fun, arg: [], kwarg: {}, kw, warnings: [] };
  if (type === "local") {
    call.tgt = kw.tgt;
    delete kw.tgt;
  }
  if (type === "runner" || type === "wheel") {
    kw.__user__ = "Reactor";
    kw.__state__ = kw.state;
    delete kw.state;
  }
  const id = chunk.__id__;
  if ("args" in kw) {
    const args = kw.args;
    delete kw.args;
    for (const param of ["arg", "kwarg"]) {
      if (param in kw) {
        call.warnings.push(
          `Reactor '${id}' is ignoring '${param}' param ${
            JSON.stringify(kw[param])
          } due to presence of 'args' param. Check the Reactor System documentation for the correct argument format.`,
        );
        delete kw[param];
      }
    }
    const dictList = Array.isArray(args) && args.every((a) => isMapping(a));
    if (type === "caller" && Array.isArray(args) && !dictList) {
      call.arg = args;
      return call;
    }
    const kwarg = isMapping(args) ? { ...args } : repackDictList(args);
    if (
      kwarg === null || (Array.isArray(args) && args.length > 0 && Object.keys(kwarg).length === 0)
    ) {
      call.error =
        `Reactor '${id}' failed to execute ${type} '${fun}': Incorrect argument format, check the Reactor System documentation for the correct format.`;
      return call;
    }
    call.kwarg = kwarg;
    return call;
  }
  const hasArg = "arg" in kw;
  const hasKwarg = "kwarg" in kw;
  call.arg = hasArg ? toList(kw.arg) : [];
  call.kwarg = hasKwarg && isMapping(kw.kwarg) ? { ...kw.kwarg } : {};
  delete kw.arg;
  delete kw.kwarg;
  if ((type === "runner" || type === "wheel") && (!hasArg || !hasKwarg) && params) {
    const mapped: Record<string, unknown> = {};
    const named = new Set(params.names.filter((n): n is string => n !== null));
    for (const [key, value] of Object.entries(chunk)) {
      if (key === "arg" || key === "kwarg") continue;
      if (named.has(key)) {
        mapped[key] = value;
      } else if (params.kwargs && !META.has(key) && !key.startsWith("__")) {
        mapped[key] = value;
      }
    }
    if (!hasKwarg) call.kwarg = mapped;
  }
  return call;
}

function toList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Salt's `repack_dictlist`: `[{a: 1}, {b: 2}]` → `{a: 1, b: 2}`; `null` when not such a list. */
function repackDictList(value: unknown): Record<string, unknown> | null {
  if (!Array.isArray(value)) return null;
  const out: Record<string, unknown> = {};
  for (const item of value) {
    if (!isMapping(item)) return null;
    Object.assign(out, item);
  }
  return out;
}
