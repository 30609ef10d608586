import assert from "node:assert/strict";
import {
  pythonNumber,
  pythonRepr,
  pythonSplitLines,
  pythonStr,
  pythonStringRepr,
} from "./python_repr.ts";

Deno.test("pythonNumber() writes numbers as Python's repr", () => {
  assert.equal(pythonNumber(0), "0");
  assert.equal(pythonNumber(-0), "-0.0");
  assert.equal(pythonNumber(0.1), "0.1");
  assert.equal(pythonNumber(1e-5), "1e-05");
  assert.equal(pythonNumber(0.0001), "0.0001");
  assert.equal(pythonNumber(1e16), "1e+16");
  assert.equal(pythonNumber(123456789012345), "123456789012345");
  assert.equal(pythonNumber(NaN), "nan");
  assert.equal(pythonNumber(-Infinity), "-inf");
  assert.equal(pythonNumber(2n ** 70n), "1180591620717411303424");
});

Deno.test("pythonStringRepr() quotes and escapes as Python", () => {
  assert.equal(pythonStringRepr("abc"), "'abc'");
  assert.equal(pythonStringRepr("it's"), `"it's"`);
  assert.equal(pythonStringRepr(`it's "x"`), `'it\\'s "x"'`);
  assert.equal(pythonStringRepr("a\\b\n\t\x00\x7f"), "'a\\\\b\\n\\t\\x00\\x7f'");
  assert.equal(pythonStringRepr("é ü 日本"), "'é ü 日本'");
  assert.equal(pythonStringRepr("\u2028"), "'\\u2028'");
});

Deno.test("pythonRepr() writes containers as Python", () => {
  assert.equal(pythonRepr({ a: [1, true, null], b: "x" }), "{'a': [1, True, None], 'b': 'x'}");
  assert.equal(pythonRepr([]), "[]");
  assert.equal(pythonRepr({}), "{}");
  assert.equal(pythonRepr(new Set()), "set()");
  assert.equal(pythonRepr(new Map([[1, "a"]])), "{1: 'a'}");
  assert.equal(pythonRepr(new Uint8Array([97, 39, 0])), `b"a'\\x00"`);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.equal(pythonRepr(cyclic), "[[...]]");
});

Deno.test("pythonStr() and pythonSplitLines() follow str() and str.splitlines()", () => {
  assert.equal(pythonStr("x"), "x");
  assert.equal(pythonStr(false), "False");
  assert.deepEqual(pythonSplitLines("a\r\nb\rc\nd\n\n"), ["a", "b", "c", "d", ""]);
  assert.deepEqual(pythonSplitLines(""), []);
  assert.deepEqual(pythonSplitLines("x\u2028y"), ["x", "y"]);
});
