import assert from "node:assert/strict";
import { isKwargs, Kwargs, kwargs, splitKwargs } from "./kwargs.ts";

Deno.test("kwargs() marks a trailing object as keyword arguments", () => {
  const kw = kwargs({ with_env: true });
  assert.ok(kw instanceof Kwargs);
  assert.deepEqual(kw.values, { with_env: true });
  assert.deepEqual(splitKwargs(["my/tag", { a: 1 }, kw]), {
    args: ["my/tag", { a: 1 }],
    kwargs: { with_env: true },
  });
});

Deno.test("splitKwargs() takes a trailing __kwarg__ object as keywords and drops the marker", () => {
  const marked = { with_env: true, __kwarg__: true };
  assert.deepEqual(splitKwargs(["my/tag", marked]), {
    args: ["my/tag"],
    kwargs: { with_env: true },
  });
  assert.deepEqual(marked, { with_env: true, __kwarg__: true }, "the caller's object is untouched");
});

Deno.test("splitKwargs() leaves a plain trailing object positional", () => {
  assert.deepEqual(splitKwargs(["my/tag", { success: true }]), {
    args: ["my/tag", { success: true }],
    kwargs: {},
  });
  assert.deepEqual(splitKwargs(["t", { __kwarg__: "yes" }]).kwargs, {});
  assert.deepEqual(splitKwargs([]), { args: [], kwargs: {} });
});

Deno.test("splitKwargs() only looks at the last argument", () => {
  const kw = kwargs({ a: 1 });
  assert.deepEqual(splitKwargs([kw, "x"]), { args: [kw, "x"], kwargs: {} });
});

Deno.test("isKwargs() recognises both markers and nothing else", () => {
  assert.equal(isKwargs(kwargs({})), true);
  assert.equal(isKwargs({ __kwarg__: true }), true);
  assert.equal(isKwargs({ __kwarg__: 1 }), false);
  assert.equal(isKwargs([true]), false);
  assert.equal(isKwargs(null), false);
  assert.equal(isKwargs("__kwarg__"), false);
});

Deno.test("Kwargs copies its values (later changes to the source object do not leak)", () => {
  const src: Record<string, unknown> = { a: 1 };
  const kw = kwargs(src);
  src.b = 2;
  assert.deepEqual(kw.values, { a: 1 });
});
