import assert from "node:assert/strict";
import { compileReactions, shapeCall } from "./chunks.ts";

const SLS = "/srv/reactor/test.sls";
const meta = (id: string) => ({ __id__: id, __sls__: SLS, order: 1 });

Deno.test("compileReactions() builds Salt's chunks for the old syntax (§12.6)", () => {
  const { chunks, errors } = compileReactions({
    raise_error: {
      "runner.error.error": [{ name: "Exception" }, { message: "This is an error" }],
      __sls__: SLS,
    },
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(chunks, [{
    state: "runner",
    fun: "error.error",
    ...meta("raise_error"),
    name: "Exception",
    message: "This is an error",
  }]);
});

Deno.test("compileReactions() turns cmd into local", () => {
  const { chunks } = compileReactions({
    install_zsh: {
      "cmd.state.single": [{ tgt: "test" }, { arg: ["pkg.installed", "zsh"] }, {
        kwarg: { fromrepo: "updates" },
      }],
      __sls__: SLS,
    },
  });
  assert.deepEqual(chunks, [{
    state: "local",
    fun: "state.single",
    ...meta("install_zsh"),
    name: "install_zsh",
    tgt: "test",
    arg: ["pkg.installed", "zsh"],
    kwarg: { fromrepo: "updates" },
  }]);
});

Deno.test("compileReactions() reports a declaration without a type and runs nothing", () => {
  const { chunks, errors } = compileReactions({
    good: { "local.test.ping": [{ tgt: "*" }], __sls__: SLS },
    bad: { "nodot": [], __sls__: SLS },
  });
  assert.deepEqual(chunks, []);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /'nodot' is not a reaction/);
});

Deno.test("shapeCall() makes every new-syntax argument a keyword argument (§12.7)", () => {
  const call = shapeCall({
    state: "local",
    fun: "state.single",
    ...meta("install_zsh"),
    name: "install_zsh",
    tgt: "test",
    args: [{ fun: "pkg.installed" }, { name: "zsh" }, { fromrepo: "updates" }],
  });
  assert.equal(call.tgt, "test");
  assert.deepEqual(call.arg, []);
  assert.deepEqual(call.kwarg, { fun: "pkg.installed", name: "zsh", fromrepo: "updates" });
});

Deno.test("shapeCall() keeps old-syntax arg and kwarg for local", () => {
  const call = shapeCall({
    state: "local",
    fun: "state.single",
    ...meta("install_zsh"),
    name: "install_zsh",
    tgt: "test",
    arg: ["pkg.installed", "zsh"],
    kwarg: { fromrepo: "updates" },
  });
  assert.deepEqual(call.arg, ["pkg.installed", "zsh"]);
  assert.deepEqual(call.kwarg, { fromrepo: "updates" });
});

Deno.test("shapeCall() warns when args comes with arg or kwarg, and ignores them", () => {
  const call = shapeCall({
    state: "runner",
    fun: "event.send",
    ...meta("x"),
    name: "x",
    arg: ["ignored"],
    args: [{ tag: "a/b" }],
  });
  assert.deepEqual(call.arg, []);
  assert.deepEqual(call.kwarg, { tag: "a/b" });
  assert.equal(call.warnings.length, 1);
  assert.match(
    call.warnings[0],
    /^Reactor 'x' is ignoring 'arg' param \["ignored"\] due to presence of 'args' param\./,
  );
});

Deno.test("shapeCall() refuses args that are not a list of one-key mappings", () => {
  const call = shapeCall({
    state: "runner",
    fun: "event.send",
    ...meta("x"),
    name: "x",
    args: ["a"],
  });
  assert.equal(
    call.error,
    "Reactor 'x' failed to execute runner 'event.send': Incorrect argument format, check the Reactor System documentation for the correct format.",
  );
});

Deno.test("shapeCall() maps old-syntax runner keys onto the runner's parameters", () => {
  const call = shapeCall(
    {
      state: "runner",
      fun: "error.error",
      ...meta("raise_error"),
      name: "Exception",
      message: "m",
    },
    { names: ["name", "message"], kwargs: false },
  );
  assert.deepEqual(call.arg, []);
  assert.deepEqual(call.kwarg, { name: "Exception", message: "m" });
  assert.equal(call.kw.__user__, "Reactor");
  assert.equal(call.kw.__state__, "runner");
});

Deno.test("shapeCall() passes a legacy caller args list as positionals", () => {
  const call = shapeCall({
    state: "caller",
    fun: "file.touch",
    ...meta("t"),
    name: "t",
    args: ["/tmp/foo"],
  });
  assert.deepEqual(call.arg, ["/tmp/foo"]);
  assert.deepEqual(call.kwarg, {});
  const named = shapeCall({
    state: "caller",
    fun: "file.touch",
    ...meta("t"),
    name: "t",
    args: [{ name: "/tmp/foo" }],
  });
  assert.deepEqual(named.kwarg, { name: "/tmp/foo" });
});

Deno.test("compileReactions() reports an ID that is not a dictionary", () => {
  const { chunks, errors } = compileReactions({ just_text: "local.test.ping" as never });
  assert.deepEqual(chunks, []);
  assert.deepEqual(errors, ["ID just_text is not a dictionary"]);
});
