import assert from "node:assert/strict";
import { genJid, isJid, jidToDate, jidToTime } from "./jid.ts";

Deno.test("genJid() is 20 digits of the current UTC time", () => {
  const before = Date.now();
  const jid = genJid();
  const after = Date.now();
  assert.match(jid, /^\d{20}$/);
  const at = jidToDate(jid)!.getTime();
  assert.ok(at >= before - 1 && at <= after, `${jid} is not between ${before} and ${after}`);
});

Deno.test("genJid() is strictly increasing within a process", () => {
  const jids = Array.from({ length: 10_000 }, () => genJid());
  for (let i = 1; i < jids.length; i++) {
    assert.ok(jids[i] > jids[i - 1], `${jids[i]} after ${jids[i - 1]}`);
  }
});

Deno.test("genJid({ uniqueJid }) appends _<pid>", () => {
  const jid = genJid({ uniqueJid: true });
  assert.match(jid, new RegExp(`^\\d{20}_${Deno.pid}$`));
  assert.ok(isJid(jid));
});

Deno.test("isJid() follows Salt's is_jid", () => {
  assert.equal(isJid("20240501123456789012"), true);
  assert.equal(isJid("20240501123456789012_1"), true);
  assert.equal(isJid("20240501123456789012_"), false);
  assert.equal(isJid("20240501123456789012x1"), false);
  assert.equal(isJid("2024050112345678901a"), false);
  assert.equal(isJid("2024050112345678901"), false);
  assert.equal(isJid(20240501123456789012), false);
  assert.equal(isJid(null), false);
});

Deno.test("jidToTime() prints Salt's format; '' for non-JIDs", () => {
  assert.equal(jidToTime("20240501123456789012"), "2024, May 01 12:34:56.789012");
  assert.equal(jidToTime("20191231235959000001_77"), "2019, Dec 31 23:59:59.000001");
  assert.equal(jidToTime("nope"), "");
  assert.equal(jidToDate("nope"), null);
});
