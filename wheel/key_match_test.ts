import assert from "node:assert/strict";
import { matchKeys } from "./key_match.ts";

Deno.test("matchKeys: globs, comma lists, lists and state mappings, as Salt's name_match", () => {
  const ids = ["db1", "web1", "web2"];
  assert.deepEqual(matchKeys(ids, "web*"), ["web1", "web2"]);
  assert.deepEqual(matchKeys(ids, "db1, web2"), ["db1", "web2"]);
  assert.deepEqual(matchKeys(ids, ["w*1", "d?1"]), ["db1", "web1"]);
  assert.deepEqual(matchKeys(ids, { minions: ["web2"], minions_pre: ["nope"] }), ["web2"]);
  assert.deepEqual(matchKeys(ids, "nosuch"), []);
  assert.deepEqual(matchKeys(ids, null), []);
});
