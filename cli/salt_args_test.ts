import assert from "node:assert/strict";
import { UsageError } from "../bus/errors.ts";
import { parseSaltArgs, parseYamlValue } from "./salt_args.ts";

// Scalar expectations were checked against PyYAML's yaml.safe_load.

Deno.test("parseYamlValue() reads YAML 1.1 booleans like PyYAML", () => {
  for (const text of ["True", "true", "TRUE", "yes", "Yes", "on", "ON"]) {
    assert.equal(parseYamlValue(text), true, text);
  }
  for (const text of ["False", "no", "NO", "off", "Off"]) {
    assert.equal(parseYamlValue(text), false, text);
  }
  assert.equal(parseYamlValue("y"), "y", "PyYAML keeps y as a string");
  assert.equal(parseYamlValue("n"), "n");
});

Deno.test("parseYamlValue() reads nulls, including Salt's None", () => {
  assert.equal(parseYamlValue("~"), null);
  assert.equal(parseYamlValue("null"), null);
  assert.equal(parseYamlValue("None"), null);
});

Deno.test("parseYamlValue() reads numbers like PyYAML", () => {
  assert.equal(parseYamlValue("2024"), 2024);
  assert.equal(parseYamlValue("-1"), -1);
  assert.equal(parseYamlValue("+12"), 12);
  assert.equal(parseYamlValue("012"), 10, "YAML 1.1 octal");
  assert.equal(parseYamlValue("0x1f"), 31);
  assert.equal(parseYamlValue("0b101"), 5);
  assert.equal(parseYamlValue("1_000"), 1000);
  assert.equal(parseYamlValue("1:20"), 80, "sexagesimal");
  assert.equal(parseYamlValue("1.5"), 1.5);
  assert.equal(parseYamlValue(".5"), 0.5);
  assert.equal(parseYamlValue("1.0e+3"), 1000);
  assert.equal(parseYamlValue(".inf"), Infinity);
  assert.ok(Number.isNaN(parseYamlValue(".nan")));
  assert.equal(parseYamlValue("1e3"), "1e3", "PyYAML needs a dot and a signed exponent");
  assert.equal(parseYamlValue("1.0e3"), "1.0e3");
  assert.equal(parseYamlValue("-.5"), "-.5");
  assert.equal(parseYamlValue("09"), "09");
});

Deno.test("parseYamlValue() keeps integers beyond 2^53 exact as bigints", () => {
  assert.equal(parseYamlValue("20240212095247760376"), 20240212095247760376n);
  assert.deepEqual(parseYamlValue("[1, 20240212095247760376]"), [1, 20240212095247760376n]);
});

Deno.test("parseYamlValue() reads flow maps and JSON objects", () => {
  assert.deepEqual(parseYamlValue('{success: True, message: "It works!"}'), {
    success: true,
    message: "It works!",
  });
  assert.deepEqual(parseYamlValue('{"data": 1}'), { data: 1 });
  assert.deepEqual(parseYamlValue('{"a": {"b": [1, "x", null]}}'), { a: { b: [1, "x", null] } });
  assert.deepEqual(parseYamlValue("{a: y}"), { a: "y" });
  assert.deepEqual(parseYamlValue("[1, on, 0x10]"), [1, true, 16]);
  assert.deepEqual(parseYamlValue('{"a": "#1"}'), { a: "#1" }, "a # inside quotes is kept");
  assert.deepEqual(parseYamlValue('{\n  "a": 1\n}'), { a: 1 }, "multi-line JSON");
});

Deno.test("parseYamlValue() keeps maps and lists not written in flow style as strings", () => {
  assert.equal(parseYamlValue("a: b"), "a: b");
  assert.equal(parseYamlValue("- a"), "- a");
});

Deno.test("parseYamlValue() keeps plain strings, including ones YAML would mangle", () => {
  assert.equal(parseYamlValue("my/tag"), "my/tag");
  assert.equal(parseYamlValue("salt/job/*"), "salt/job/*");
  assert.equal(parseYamlValue("*"), "*", "YAML alias syntax error");
  assert.equal(parseYamlValue("&a"), "&a", "YAML anchor with no value");
  assert.equal(parseYamlValue("!"), "!");
  assert.equal(parseYamlValue("|"), "|");
  assert.equal(parseYamlValue("foo # bar"), "foo # bar", "not cut at the comment");
  assert.equal(parseYamlValue("#x"), "#x");
  assert.equal(parseYamlValue("2024-05-01"), "2024-05-01", "dates stay strings");
  assert.equal(parseYamlValue("a\nb"), "a\nb", "newlines are not folded");
  assert.equal(parseYamlValue(""), "");
  assert.equal(parseYamlValue("  "), "  ");
  assert.equal(parseYamlValue('"quoted"'), "quoted");
  assert.equal(parseYamlValue('""'), "");
});

Deno.test("parseYamlValue() throws UsageError for a broken flow map or list", () => {
  for (const text of ["{a: ", "[1, 2", '{"a": 1'] as const) {
    assert.throws(() => parseYamlValue(text), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.ok(e.message.includes(JSON.stringify(text)), e.message);
      assert.match(e.message, /must end with|Missing|expected/i);
      return true;
    });
  }
});

Deno.test("parseSaltArgs() splits positional and keyword arguments", () => {
  assert.deepEqual(
    parseSaltArgs(["my/tag", '{success: True, message: "It works!"}', "count=-1", "pretty=True"]),
    {
      args: ["my/tag", { success: true, message: "It works!" }],
      kwargs: { count: -1, pretty: true },
    },
  );
});

Deno.test("parseSaltArgs() reads keyword values as YAML too", () => {
  assert.deepEqual(parseSaltArgs(["tagmatch=salt/job/*", "n=2024", "data={a: 1}", "e="]), {
    args: [],
    kwargs: { tagmatch: "salt/job/*", n: 2024, data: { a: 1 }, e: "" },
  });
  assert.deepEqual(parseSaltArgs(["x=a=b"]).kwargs, { x: "a=b" });
});

Deno.test("parseSaltArgs() keeps arguments whose name is not an identifier positional", () => {
  assert.deepEqual(parseSaltArgs(['{"a": "b=c"}', "1x=2", "a-b=c", "a==b", "=x"]), {
    args: [{ a: "b=c" }, "1x=2", "a-b=c", "a==b", "=x"],
    kwargs: {},
  });
});

Deno.test("parseSaltArgs() lets the last keyword win and treats __proto__ as a plain key", () => {
  const { kwargs } = parseSaltArgs(["count=1", "count=2", "__proto__=x"]);
  assert.equal(kwargs.count, 2);
  assert.equal(Object.getPrototypeOf(kwargs), Object.prototype);
  assert.deepEqual(Object.keys(kwargs), ["count", "__proto__"]);
  assert.equal(Object.getOwnPropertyDescriptor(kwargs, "__proto__")?.value, "x");
});

Deno.test("parseSaltArgs() throws UsageError for a broken flow value", () => {
  assert.throws(() => parseSaltArgs(["my/tag", "data={a: "]), UsageError);
});
