import assert from "node:assert/strict";
import { ArgumentError } from "./errors.ts";
import { bindArguments, signatureOf } from "./signature.ts";

function expectArgumentError(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ArgumentError, `expected ArgumentError, got ${err}`);
    assert.equal(err.name, "ArgumentError");
    assert.equal(err.message, message);
    return true;
  });
}

Deno.test("signatureOf() reads names, defaults, rest and kwargs from a function's source", () => {
  function send(
    tag: string,
    data: unknown = null,
    preload: unknown = null,
    with_env: boolean | string[] = false,
    kwargs: Record<string, unknown> = {},
  ) {
    return [tag, data, preload, with_env, kwargs];
  }
  assert.deepEqual(signatureOf(send), {
    names: ["tag", "data", "preload", "with_env"],
    required: 1,
    rest: false,
    kwargs: true,
    layout: "kwargs-last",
  });
  function arg(kwargs: Record<string, unknown>, ...args: unknown[]) {
    return [kwargs, args];
  }
  assert.deepEqual(signatureOf(arg), {
    names: [],
    required: 0,
    rest: true,
    kwargs: true,
    layout: "kwargs-then-rest",
  });
  assert.deepEqual(signatureOf(() => 1), {
    names: [],
    required: 0,
    rest: false,
    kwargs: false,
    layout: "kwargs-last",
  });
});

Deno.test("signatureOf() splits only on top-level commas (brackets, strings, templates, regexes, arrows, comments)", () => {
  const fn = function (
    a = [1, 2],
    b = { x: 1, y: [3, 4] },
    c = "x,y)",
    d = `t,${[1, 2].join(",")},}`,
    e = /[,)]/g,
    f = (p: number, q: number) => p + q,
    /* a, comment */ g = "it's, ok",
    // line, comment
    h?: number,
  ) {
    return [a, b, c, d, e, f, g, h];
  };
  assert.deepEqual(signatureOf(fn).names, ["a", "b", "c", "d", "e", "f", "g", "h"]);
  assert.equal(signatureOf(fn).required, 0);
});

Deno.test("signatureOf() handles arrows, async functions, methods and destructuring", () => {
  assert.deepEqual(signatureOf((x: number) => x).names, ["x"]);
  assert.deepEqual(signatureOf(async (x: number, y = 2) => await Promise.resolve(x + y)).names, [
    "x",
    "y",
  ]);
  // deno-lint-ignore no-explicit-any
  const single = ((x: any) => x) as (x: unknown) => unknown;
  assert.deepEqual(signatureOf(single).names, ["x"]);
  const obj = {
    method(a: number, b: number) {
      return a + b;
    },
    async "quoted (name)"(c: number) {
      return await c;
    },
  };
  assert.deepEqual(signatureOf(obj.method).names, ["a", "b"]);
  assert.deepEqual(signatureOf(obj["quoted (name)"]).names, ["c"]);
  const destructured = ({ a }: { a: number }, [b]: number[], c = 1) => a + b + c;
  const sig = signatureOf(destructured);
  assert.deepEqual(sig.names, [null, null, "c"]);
  assert.equal(sig.required, 2);
});

Deno.test("signatureOf() takes a function's own params property over its source", () => {
  function get(key: string, default_: unknown = "") {
    return [key, default_];
  }
  get.params = ["key", "default"];
  assert.deepEqual(signatureOf(get).names, ["key", "default"]);
  assert.deepEqual(bindArguments("grains.get", get, ["os"], { default: "x" }), ["os", "x"]);
  function all(...values: unknown[]) {
    return values;
  }
  all.params = ["...args", "kwargs"];
  assert.deepEqual(signatureOf(all).layout, "rest-then-kwargs");
  assert.deepEqual(bindArguments("m.all", all, [1, 2], { k: 3 }), [1, 2, { k: 3 }]);
});

Deno.test("signatureOf() accepts a native or bound function as taking any positionals", () => {
  const bound = function (this: unknown, a: number) {
    return a;
  }.bind(null);
  const sig = signatureOf(bound);
  assert.equal(sig.rest, true);
  assert.equal(sig.kwargs, false);
  assert.deepEqual(bindArguments("m.bound", bound, [1, 2]), [1, 2]);
});

Deno.test("bindArguments() fills positionals in order and keywords by name", () => {
  function f(a: number, b = 2, c = 3) {
    return [a, b, c];
  }
  assert.deepEqual(bindArguments("m.f", f, [1]), [1]);
  assert.deepEqual(bindArguments("m.f", f, [1, 5]), [1, 5]);
  assert.deepEqual(bindArguments("m.f", f, [], { a: 1, c: 9 }), [1, undefined, 9]);
  assert.deepEqual(bindArguments("m.f", f, [1], { b: 7 }), [1, 7]);
});

Deno.test("bindArguments() puts unknown keywords into a kwargs parameter, never positionals", () => {
  function send(tag: string, data: unknown = null, kwargs: Record<string, unknown> = {}) {
    return [tag, data, kwargs];
  }
  assert.deepEqual(bindArguments("event.send", send, ["t"]), ["t", undefined, {}]);
  assert.deepEqual(
    bindArguments("event.send", send, ["t", { a: 1 }], { timeout: 5 }),
    ["t", { a: 1 }, { timeout: 5 }],
  );
  assert.deepEqual(bindArguments("event.send", send, [], { tag: "t", x: 1 }), [
    "t",
    undefined,
    { x: 1 },
  ]);
  expectArgumentError(
    () => bindArguments("event.send", send, ["t", {}, "third"]),
    "event.send() takes from 1 to 2 positional arguments but 3 were given",
  );
});

Deno.test("bindArguments() gives rest parameters the extra positionals and kwargs the keywords", () => {
  function arg(kwargs: Record<string, unknown>, ...args: unknown[]) {
    return [kwargs, args];
  }
  assert.deepEqual(bindArguments("test.arg", arg, [1, 2], { a: 3 }), [{ a: 3 }, 1, 2]);
  assert.deepEqual(bindArguments("test.arg", arg, []), [{}]);
  function many(first: string, ...rest: unknown[]) {
    return [first, rest];
  }
  assert.deepEqual(bindArguments("m.many", many, ["a", "b", "c"]), ["a", "b", "c"]);
  expectArgumentError(
    () => bindArguments("m.many", many, [], { rest: 1 }),
    "m.many() got an unexpected keyword argument 'rest'",
  );
});

Deno.test("bindArguments() errors use Python's wording", () => {
  const ping = () => true;
  const echo = (text: string) => text;
  function send(tag: string, data: unknown = null, kwargs: Record<string, unknown> = {}) {
    return [tag, data, kwargs];
  }
  function three(a: number, b: number, c: number) {
    return a + b + c;
  }
  function one(a: number) {
    return a;
  }
  expectArgumentError(
    () => bindArguments("test.ping", ping, [1]),
    "test.ping() takes 0 positional arguments but 1 was given",
  );
  expectArgumentError(
    () => bindArguments("test.ping", ping, [1, 2]),
    "test.ping() takes 0 positional arguments but 2 were given",
  );
  expectArgumentError(
    () => bindArguments("m.one", one, [1, 2]),
    "m.one() takes 1 positional argument but 2 were given",
  );
  expectArgumentError(
    () => bindArguments("test.echo", echo, []),
    "test.echo() missing 1 required positional argument: 'text'",
  );
  expectArgumentError(
    () => bindArguments("m.three", three, []),
    "m.three() missing 3 required positional arguments: 'a', 'b', and 'c'",
  );
  expectArgumentError(
    () => bindArguments("m.three", three, [1], { c: 3 }),
    "m.three() missing 1 required positional argument: 'b'",
  );
  expectArgumentError(
    () => bindArguments("m.three", three, [1]),
    "m.three() missing 2 required positional arguments: 'b' and 'c'",
  );
  expectArgumentError(
    () => bindArguments("event.send", send, ["my/tag"], { tag: "other" }),
    "event.send() got multiple values for argument 'tag'",
  );
  expectArgumentError(
    () => bindArguments("test.ping", ping, [], { x: 1 }),
    "test.ping() got an unexpected keyword argument 'x'",
  );
});

Deno.test("bindArguments() keeps a __proto__ keyword as a plain key", () => {
  function f(kwargs: Record<string, unknown> = {}) {
    return kwargs;
  }
  const kw = JSON.parse('{"__proto__": 1}');
  const [bound] = bindArguments("m.f", f, [], kw) as [Record<string, unknown>];
  assert.ok(Object.hasOwn(bound, "__proto__"));
  assert.equal(Object.getPrototypeOf(bound), Object.prototype);
});
