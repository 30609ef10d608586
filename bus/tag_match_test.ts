import assert from "node:assert/strict";
import { MatchTypeError } from "./errors.ts";
import {
  exprMatch,
  fnmatch,
  fnmatchToRegExp,
  getMatcher,
  MATCH_TYPES,
  validatePattern,
} from "./tag_match.ts";

Deno.test("MATCH_TYPES lists the five match types, startswith first", () => {
  assert.deepEqual([...MATCH_TYPES], ["startswith", "endswith", "find", "regex", "fnmatch"]);
});

Deno.test("getMatcher('startswith') matches prefixes and '' matches everything", () => {
  const m = getMatcher("startswith");
  assert.equal(m("evt1", "ev"), true);
  assert.equal(m("evt1", ""), true);
  assert.equal(m("evt1", "vt"), false);
  assert.equal(m("ev", "evt1"), false);
});

Deno.test("getMatcher('endswith') matches suffixes", () => {
  const m = getMatcher("endswith");
  assert.equal(m("salt/job/1/ret/m1", "/ret/m1"), true);
  assert.equal(m("salt/job/1/ret/m1", "/ret"), false);
});

Deno.test("getMatcher('find') matches substrings", () => {
  const m = getMatcher("find");
  assert.equal(m("salt/job/1/ret/m1", "/ret/"), true);
  assert.equal(m("salt/job/1/new", "/ret/"), false);
});

Deno.test("getMatcher('regex') is a search anchored at the start only", () => {
  const m = getMatcher("regex");
  assert.equal(m("evt1", "^ev"), true, "double caret is harmless");
  assert.equal(m("evt1", "e..1$"), true);
  assert.equal(m("evt1", "ev"), true, "no end anchor");
  assert.equal(m("xevt1", "ev"), false, "anchored at the start");
  assert.equal(m("evt12", "e..1$"), false);
  assert.equal(m("salt/job/20240101/new", "salt/job/\\d+/new"), true);
  assert.equal(m("anything", ""), true);
});

Deno.test("getMatcher('regex') translates Python-only syntax", () => {
  const m = getMatcher("regex");
  assert.equal(m("salt/auth", "salt/auth\\Z"), true);
  assert.equal(m("salt/auth/x", "salt/auth\\Z"), false);
  assert.equal(m("salt/auth", "\\Asalt"), true);
  assert.equal(m("ab-ab", "(?P<x>ab)-(?P=x)"), true);
  assert.equal(m("ab-ac", "(?P<x>ab)-(?P=x)"), false);
  assert.equal(m("a\\Ab", "a\\\\Ab"), true, "an escaped backslash is left alone");
});

Deno.test("getMatcher('regex') returns false for an invalid regex instead of throwing", () => {
  const m = getMatcher("regex");
  assert.equal(m("salt/(", "salt/("), false);
  assert.equal(m("salt/(", "salt/("), false, "cached invalid pattern still false");
});

Deno.test("getMatcher('regex') keeps working past the cache limit", () => {
  const m = getMatcher("regex");
  for (let i = 0; i < 1100; i++) assert.equal(m(`evt${i}`, `evt${i}$`), true);
  assert.equal(m("evt0", "evt0$"), true);
  assert.equal(m("evt0x", "evt0$"), false);
});

Deno.test("getMatcher('fnmatch') globs the whole tag and * crosses /", () => {
  const m = getMatcher("fnmatch");
  assert.equal(m("salt/job/123/ret/minion", "salt/job/*/ret/*"), true);
  assert.equal(m("salt/job/123/new", "salt/job/*/ret/*"), false);
  assert.equal(m("salt/a/b/c", "salt/*"), true);
  assert.equal(m("salt/auth", "salt"), false, "whole-string match");
  assert.equal(m("evt1", "evt?"), true);
  assert.equal(m("evt12", "evt?"), false);
  assert.equal(m("Salt/auth", "salt/*"), false, "case-sensitive");
});

Deno.test("getMatcher() throws MatchTypeError naming the bad type and the valid ones", () => {
  assert.throws(() => getMatcher("glob"), (e: unknown) => {
    assert.ok(e instanceof MatchTypeError);
    assert.match(e.message, /"glob"/);
    assert.match(e.message, /startswith, endswith, find, regex, fnmatch/);
    return true;
  });
  assert.throws(() => getMatcher("toString"), MatchTypeError);
});

// Expected values checked against CPython 3 fnmatch.fnmatch.
const FNMATCH_CASES: [string, string, boolean][] = [
  ["salt/job/123/ret/minion", "salt/job/*/ret/*", true],
  ["a/b", "*", true],
  ["abc", "[!a]bc", false],
  ["bbc", "[!a]bc", true],
  ["[abc", "[abc", true],
  ["a-", "a[a-]", true],
  ["b", "[a-c-e]", true],
  ["-", "[a-c-e]", true],
  ["d", "[a-c-e]", false],
  ["e", "[a-c-e]", true],
  ["x", "[z-a]", false],
  ["x", "[!z-a]", true],
  ["]", "[]]", true],
  ["^", "[^]", true],
  ["a", "[^]", false],
  ["a.b", "a.b", true],
  ["axb", "a.b", false],
  ["a\nb", "a*b", true],
  ["é", "?", true],
  ["😀", "?", true],
  ["A", "a", false],
  ["a+b", "a+b", true],
  ["\\", "[\\]", true],
  ["a", "[!]a]", false],
  ["!", "[!]a]", true],
  ["b", "[!]a]", true],
  ["*x", "[*]x", true],
  ["x(y)", "x(y)", true],
  ["a{1}", "a{1}", true],
  ["a$", "a$", true],
  ["ab|", "ab|", true],
];

Deno.test("fnmatch() agrees with Python's fnmatch.fnmatch", () => {
  for (const [name, pattern, expected] of FNMATCH_CASES) {
    assert.equal(fnmatch(name, pattern), expected, `fnmatch(${name}, ${pattern})`);
  }
});

Deno.test("fnmatchToRegExp() returns an anchored RegExp", () => {
  const re = fnmatchToRegExp("salt/*/start");
  assert.equal(re.test("salt/minion/m1/start"), true);
  assert.equal(re.test("xsalt/minion/start"), false);
  assert.equal(re.test("salt/minion/startx"), false);
});

Deno.test("validatePattern() throws MatchTypeError for an invalid regex only", () => {
  validatePattern("salt/job/\\d+", "regex");
  validatePattern("salt/(", "fnmatch");
  validatePattern("salt/(", "startswith");
  assert.throws(() => validatePattern("salt/(", "regex"), (e: unknown) => {
    assert.ok(e instanceof MatchTypeError);
    assert.match(e.message, /salt\/\(/);
    return true;
  });
});

Deno.test("exprMatch() matches as a glob first, then as a full regex", () => {
  assert.equal(exprMatch("salt/auth", "*"), true);
  assert.equal(exprMatch("salt/job/123/ret/m1", "salt/job/*/ret/*"), true);
  assert.equal(exprMatch("salt/job/123/new", "salt/job/\\d+/new"), true);
  assert.equal(exprMatch("salt/job/123/new/x", "salt/job/\\d+/new"), false, "end anchor");
  assert.equal(exprMatch("xsalt/job/123/new", "salt/job/\\d+/new"), false, "start anchor");
  assert.equal(exprMatch("salt/auth", "salt/(auth|key)"), true);
  assert.equal(exprMatch("salt/(", "salt/("), true, "invalid regex, but the glob matches");
  assert.equal(exprMatch("salt/x", "salt/("), false, "invalid regex is ignored");
});

Deno.test("exprMatch() glues the anchors to the pattern like Salt's expr_match", () => {
  // re.match(r"\Aa|b\Z", tag): starts with "a", or is exactly "b".
  assert.equal(exprMatch("abc", "a|b"), true);
  assert.equal(exprMatch("b", "a|b"), true);
  assert.equal(exprMatch("xb", "a|b"), false);
});
