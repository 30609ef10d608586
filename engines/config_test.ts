import assert from "node:assert/strict";
import { ConfigError } from "../bus/errors.ts";
import { parseEngines, parseEnginesDirs, restartPolicy } from "./config.ts";
import { BUILTIN_ENGINES } from "./builtin.ts";
import { BUILTIN_ENGINE_NAMES, resolveEngines } from "./resolve_engine.ts";
import { shlexSplit } from "./script.ts";
import { passes } from "./http_logstash.ts";

Deno.test("parseEngines() reads names, {name: options} maps, engine_module aliases and a dict", () => {
  assert.deepEqual(parseEngines(undefined), []);
  assert.deepEqual(parseEngines([]), []);
  assert.deepEqual(parseEngines({}), []);
  assert.deepEqual(parseEngines(["test", { prod: { engine_module: "http_logstash", url: "u" } }]), [
    { name: "test", module: "test", options: {} },
    { name: "prod", module: "http_logstash", options: { url: "u" } },
  ]);
  assert.deepEqual(parseEngines({ webhook: { port: 1 }, test: null }), [
    { name: "webhook", module: "webhook", options: { port: 1 } },
    { name: "test", module: "test", options: {} },
  ]);
});

Deno.test("parseEngines() names the option and the file for bad shapes", () => {
  assert.throws(() => parseEngines("test", "/etc/m"), /engines in \/etc\/m: expected a list/);
  assert.throws(() => parseEngines([{ a: {}, b: {} }]), ConfigError);
  assert.throws(
    () => parseEngines([{ a: [1] }]),
    /engines\[0\] \(a\): the options must be a mapping/,
  );
  assert.throws(() => parseEngines(["test", "test"]), /configured twice/);
  assert.throws(() => parseEnginesDirs([1]), /engines_dirs/);
  assert.throws(() => restartPolicy({ engine_restart_delay: -1 }), /engine_restart_delay/);
  assert.deepEqual(restartPolicy({}), { initialMs: 1000, maxMs: 60000, resetAfterMs: 60000 });
});

Deno.test("resolveEngines() knows the built-ins and refuses an unknown engine", async () => {
  assert.deepEqual(Object.keys(BUILTIN_ENGINES).sort(), [...BUILTIN_ENGINE_NAMES].sort());
  const [e] = await resolveEngines([{ name: "t", module: "test", options: {} }], []);
  assert.equal(e.url, null);
  await assert.rejects(
    resolveEngines([{ name: "x", module: "nosuch", options: {} }], ["/nonexistent"]),
    /unknown engine 'nosuch'.*\/nonexistent/,
  );
});

Deno.test("shlexSplit() splits like Python's shlex.split", () => {
  assert.deepEqual(shlexSplit(`sh -c 'echo "a b"' x\\ y "q\\"r"`), [
    "sh",
    "-c",
    'echo "a b"',
    "x y",
    'q"r',
  ]);
  assert.throws(() => shlexSplit("a 'b"), /No closing quotation/);
});

Deno.test("http_logstash passes() applies tags globs and funs as Salt does", () => {
  assert.equal(
    passes("salt/job/1/ret/a", { fun: "test.ping" }, ["salt/job/*"], ["test.ping"]),
    true,
  );
  assert.equal(passes("salt/job/1/ret/a", { fun: "cmd.run" }, null, ["test.ping"]), false);
  assert.equal(passes("myco/x", {}, ["salt/*"], null), false);
  assert.equal(passes("myco/x", {}, null, ["test.ping"]), true);
});
