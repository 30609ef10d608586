/**
 * How a tag is written on an SSE `tag:` line.
 *
 * @module
 */

/**
 * A tag as written on its `tag:` line: CR and LF escaped (`\r`, `\n`) so
 * that they cannot break the stream.
 *
 * @example
 * ```ts
 * import { sseTagLine } from "./sse_tag_line.ts";
 * sseTagLine("a\nb"); // "a\\nb"
 * ```
 */
export function sseTagLine(tag: string): string {
  return /[\r\n]/.test(tag) ? tag.replace(/\r/g, "\\r").replace(/\n/g, "\\n") : tag;
}
