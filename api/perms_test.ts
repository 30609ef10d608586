import assert from "node:assert/strict";
import { exprMatch, permitted, type PermRequest } from "./perms.ts";

const local = (fun: string, tgt: string, extra: Partial<PermRequest> = {}): PermRequest => ({
  form: "local",
  fun,
  args: [],
  kwargs: {},
  tgt,
  ...extra,
});

Deno.test("exprMatch is Salt's expr_match: equal, glob, or a whole-name regex", () => {
  assert.ok(exprMatch("test.ping", "test.ping"));
  assert.ok(exprMatch("test.ping", "test.*"));
  assert.ok(exprMatch("test.ping", "test\\.p.*"));
  assert.ok(!exprMatch("test.ping", "test"));
  assert.ok(!exprMatch("cmd.run", "(unbalanced"));
});

Deno.test("permitted: local strings, target mappings, argument restrictions, runner and wheel forms", () => {
  const perms = [
    "test.*",
    { "web*": ["grains.*", { "cmd.run": { args: ["ls.*"], kwargs: { cwd: "/tmp" } } }] },
    { "@runner": ["manage.*"] },
    "@jobs",
  ];
  assert.ok(permitted(perms, local("test.ping", "*")));
  assert.ok(permitted(perms, local("grains.items", "web*")));
  assert.ok(permitted(perms, local("grains.items", "web1,web2", { tgtType: "list" })));
  assert.ok(!permitted(perms, local("grains.items", "web1,db1", { tgtType: "list" })));
  assert.ok(!permitted(perms, local("grains.items", "*")));
  assert.ok(!permitted(perms, local("grains.items", "G@os:Debian", { tgtType: "compound" })));
  assert.ok(
    permitted(perms, local("cmd.run", "web1", { args: ["ls -l"], kwargs: { cwd: "/tmp" } })),
  );
  assert.ok(
    !permitted(perms, local("cmd.run", "web1", { args: ["rm -rf /"], kwargs: { cwd: "/tmp" } })),
  );
  assert.ok(!permitted(perms, local("cmd.run", "web1", { args: ["ls"] })), "cwd is required");
  const runner = (fun: string): PermRequest => ({ form: "runner", fun, args: [], kwargs: {} });
  assert.ok(permitted(perms, runner("manage.up")));
  assert.ok(permitted(perms, runner("jobs.lookup_jid")));
  assert.ok(!permitted(perms, runner("cache.grains")));
  assert.ok(!permitted(perms, { form: "wheel", fun: "key.list_all", args: [], kwargs: {} }));
  assert.ok(permitted(["@wheels"], { form: "wheel", fun: "key.list_all", args: [], kwargs: {} }));
  assert.ok(!permitted(["@runner"], local("test.ping", "*")), "@ words are not functions");
  assert.ok(!permitted([], local("test.ping", "*")));
});
