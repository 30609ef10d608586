import assert from "node:assert/strict";
import { SALT, TAGEND, tagify, TAGPARTER, TAGS } from "./tagify.ts";

const JID = "20240501123456789012";

Deno.test("tag constants have Salt's values", () => {
  assert.equal(TAGEND, "\n\n");
  assert.equal(TAGPARTER, "/");
  assert.equal(SALT, "salt");
  assert.deepEqual(Object.keys(TAGS).sort(), [
    "auth",
    "cloud",
    "fileserver",
    "job",
    "key",
    "minion",
    "queue",
    "run",
    "syndic",
    "wheel",
  ]);
  for (const [k, v] of Object.entries(TAGS)) assert.equal(v, k);
});

Deno.test("tagify() builds every tag of the §3.12 table", () => {
  assert.equal(tagify([JID, "new"], "job"), `salt/job/${JID}/new`);
  assert.equal(tagify([JID, "ret", "m1"], "job"), `salt/job/${JID}/ret/m1`);
  assert.equal(tagify(undefined, "auth"), "salt/auth");
  assert.equal(tagify("", "auth"), "salt/auth");
  assert.equal(tagify(JID, "run"), `salt/run/${JID}`);
  assert.equal(tagify("ret", "", `salt/run/${JID}`), `salt/run/${JID}/ret`);
  assert.equal(tagify(["m1", "start"], "minion"), "salt/minion/m1/start");
  assert.equal(tagify("m1", "refresh", "minion"), "minion/refresh/m1");
  assert.equal(
    tagify([JID, "sub", "m1", "error", "state.highstate"], "job"),
    `salt/job/${JID}/sub/m1/error/state.highstate`,
  );
  assert.equal(tagify("my/tag", "", "pre"), "pre/my/tag");
});

Deno.test("tagify() with no arguments is just the base", () => {
  assert.equal(tagify(), "salt");
  assert.equal(tagify("", "", ""), "");
});

Deno.test("tagify() drops empty parts", () => {
  assert.equal(tagify(["", "a", "", "b"], ""), "salt/a/b");
  assert.equal(tagify("a", "", ""), "a");
});

Deno.test("tagify() keeps null as 'None' and 0 as '0', drops undefined", () => {
  assert.equal(tagify([null, 0, undefined], "job"), "salt/job/None/0");
  assert.equal(tagify(null, "job"), "salt/job/None");
  assert.equal(tagify(0, "job"), "salt/job/0");
  assert.equal(tagify([true, false]), "salt/True/False");
});

Deno.test("tagify() splits any non-string iterable and decodes bytes", () => {
  const bytes = new TextEncoder().encode("mïnion");
  assert.equal(tagify([bytes, "start"], "minion"), "salt/minion/mïnion/start");
  assert.equal(tagify(bytes, "minion"), "salt/minion/mïnion");
  assert.equal(tagify(new Set(["a", "b"])), "salt/a/b");
  assert.equal(tagify(new Map([["k1", 1], ["k2", 2]])), "salt/k1/k2");
  assert.equal(tagify(["a", "b"].values()), "salt/a/b");
  assert.equal(tagify(123), "salt/123");
});

Deno.test("tagify() maps only known prefixes through TAGS", () => {
  assert.equal(tagify("x", "constructor"), "salt/constructor/x");
  assert.equal(tagify("x", "custom"), "salt/custom/x");
});
