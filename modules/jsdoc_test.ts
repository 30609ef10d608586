import assert from "node:assert/strict";
import { cleanJsDoc, jsDocsOf, jsDocsOfUrl } from "./jsdoc.ts";

Deno.test("cleanJsDoc() strips delimiters and leading stars, keeps tags", () => {
  assert.equal(
    cleanJsDoc("/**\n * Returns true.\n *\n * @example\n *   indented\n */"),
    "Returns true.\n\n@example\n  indented",
  );
  assert.equal(cleanJsDoc("/** One line. */"), "One line.");
});

Deno.test("jsDocsOf() takes the block right before each exported function", () => {
  const src = `/** Module doc. @module */
import x from "y";

/** Not exported. */
function hidden() {}

/** A. */
export function a() {}

/**
 * B, async.
 */
export async function b() {}

/** C, a const. */
export const c = () => 1;

// a line comment, no JSDoc
export function d() {}
`;
  assert.deepEqual(jsDocsOf(src), { a: "A.", b: "B, async.", c: "C, a const." });
});

Deno.test("jsDocsOfUrl() reads file: URLs and gives {} for anything unreadable", () => {
  const docs = jsDocsOfUrl(new URL("./test.ts", import.meta.url).href);
  assert.match(docs.ping, /Returns `true`/);
  assert.deepEqual(jsDocsOfUrl("file:///nonexistent/module.ts"), {});
  assert.deepEqual(jsDocsOfUrl("https://example.com/x.ts"), {});
  assert.deepEqual(jsDocsOfUrl(undefined), {});
});
