/**
 * The `reactor:` option (spec §12.2, §12.4): a list of single-key maps
 * `{<tag glob>: <file> | [<file>, …]}`, or the path of a YAML file holding
 * that list (read again on every event, as Salt does). Tags are matched with
 * Python's `fnmatch` (`*` crosses `/`); every matching entry contributes its
 * files, in config order, duplicates included.
 *
 * saltbus extension: the value may also be a mapping
 * `{files: [...], react_to_reactor: true}`, which lets those files react to
 * events of the reactor's own runner reactions (`user: Reactor`, #36319).
 * Salt ignores such a value.
 *
 * @module
 */
import { isMapping } from "../bus/mapping.ts";
import { fnmatch } from "../bus/tag_match.ts";
import { readYamlFile } from "../bus/yaml_file.ts";

/** One entry of the reactor map. */
export interface ReactorEntry {
  /** The tag glob (fnmatch). */
  readonly tag: string;
  /** The reaction files, in order. */
  readonly files: readonly string[];
  /** Whether these files also react to events with `user: Reactor` (saltbus extension). */
  readonly reactToReactor: boolean;
}

/**
 * Reads the entries of a reactor map value; items that are not single-key
 * maps, and values that are neither a string nor a list, contribute nothing
 * (silently, as Salt).
 *
 * @example
 * ```ts
 * import { parseReactorMap } from "./reactor_map.ts";
 * parseReactorMap([{ "salt/minion/*\/start": "/srv/reactor/start.sls" }]);
 * // [{ tag: "salt/minion/*\/start", files: ["/srv/reactor/start.sls"], reactToReactor: false }]
 * ```
 */
export function parseReactorMap(value: unknown): ReactorEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: ReactorEntry[] = [];
  for (const item of value) {
    if (!isMapping(item)) continue;
    const keys = Object.keys(item);
    if (keys.length !== 1) continue;
    const tag = keys[0];
    const files = item[tag];
    if (typeof files === "string") {
      entries.push({ tag, files: [files], reactToReactor: false });
    } else if (Array.isArray(files)) {
      entries.push({
        tag,
        files: files.filter((f) => typeof f === "string"),
        reactToReactor: false,
      });
    } else if (isMapping(files)) {
      const list = typeof files.files === "string" ? [files.files] : files.files;
      entries.push({
        tag,
        files: Array.isArray(list) ? list.filter((f) => typeof f === "string") : [],
        reactToReactor: files.react_to_reactor === true,
      });
    }
  }
  return entries;
}

/**
 * The reactor map in Salt's `list_all()` shape: `[{tag: [files]}]`.
 *
 * @example
 * ```ts
 * import { mapToList } from "./reactor_map.ts";
 * mapToList([{ tag: "a/*", files: ["/f.sls"], reactToReactor: false }]); // [{ "a/*": ["/f.sls"] }]
 * ```
 */
export function mapToList(entries: readonly ReactorEntry[]): Record<string, string[]>[] {
  return entries.map((e) => ({ [e.tag]: [...e.files] }));
}

/** What a tag matched: the files, each with whether it may see reactor events. */
export interface MatchedFile {
  /** The file reference as configured. */
  readonly file: string;
  /** From an entry with `react_to_reactor: true`. */
  readonly reactToReactor: boolean;
}

/**
 * Salt's `list_reactors(tag)`: the files of every entry whose glob matches
 * `tag`, in config order, duplicates included.
 *
 * @example
 * ```ts
 * import { matchReactors } from "./reactor_map.ts";
 * const map = [{ tag: "salt/job/*\/ret/*", files: ["/r.sls"], reactToReactor: false }];
 * matchReactors(map, "salt/job/1/ret/web1").map((m) => m.file); // ["/r.sls"]
 * ```
 */
export function matchReactors(entries: readonly ReactorEntry[], tag: string): MatchedFile[] {
  return entries.filter((e) => fnmatch(tag, e.tag)).flatMap((e) =>
    e.files.map((file) => ({ file, reactToReactor: e.reactToReactor }))
  );
}

/**
 * Reads a string-valued `reactor` option (a YAML file with the list), as
 * Salt does on every event. Failures are returned as Salt's message.
 *
 * @example
 * ```ts
 * import { readReactorMapFile } from "./reactor_map.ts";
 * const { entries, error } = await readReactorMapFile("/etc/salt/reactor.yaml");
 * ```
 */
export async function readReactorMapFile(
  file: string,
): Promise<{ entries: ReactorEntry[]; error?: string }> {
  try {
    return { entries: parseReactorMap(await readYamlFile(file, "reactor map")) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const parse = /not valid YAML/.test(message);
    return {
      entries: [],
      error: parse
        ? `Failed to parse YAML in reactor map: "${message}"`
        : `Failed to read reactor map: "${message}"`,
    };
  }
}
