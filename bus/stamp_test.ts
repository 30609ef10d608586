import assert from "node:assert/strict";
import { nowMicros, saltStamp } from "./stamp.ts";

Deno.test("saltStamp() formats six microsecond digits", () => {
  assert.equal(saltStamp(1714566896789012), "2024-05-01T12:34:56.789012");
  assert.equal(saltStamp(1714566896000001), "2024-05-01T12:34:56.000001");
  assert.equal(saltStamp(1714566896100000), "2024-05-01T12:34:56.100000");
});

Deno.test("saltStamp() omits the fraction when microseconds are zero", () => {
  assert.equal(saltStamp(1714566896000000), "2024-05-01T12:34:56");
  assert.equal(saltStamp(0), "1970-01-01T00:00:00");
});

Deno.test("saltStamp() pads the year to four digits", () => {
  assert.equal(saltStamp(Date.UTC(999, 0, 2, 3, 4, 5) * 1000), "0999-01-02T03:04:05");
  assert.equal(saltStamp(-62135596800000000), "0001-01-01T00:00:00");
});

Deno.test("saltStamp() handles times before the epoch", () => {
  assert.equal(saltStamp(-1), "1969-12-31T23:59:59.999999");
});

Deno.test("saltStamp() truncates fractional microseconds", () => {
  assert.equal(saltStamp(1714566896789012.75), "2024-05-01T12:34:56.789012");
});

Deno.test("saltStamp() gives the right prefix when the second changes", () => {
  assert.equal(saltStamp(1714566896999999), "2024-05-01T12:34:56.999999");
  assert.equal(saltStamp(1714566897000001), "2024-05-01T12:34:57.000001");
  assert.equal(saltStamp(1714566896999999), "2024-05-01T12:34:56.999999");
});

Deno.test("saltStamp() without an argument stamps the current UTC time", () => {
  const before = Date.now();
  const stamp = saltStamp();
  const after = Date.now();
  assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
  const ms = Date.parse(stamp.slice(0, 23) + "Z");
  assert.ok(ms >= before - 1 && ms <= after + 1, `${stamp} not within [${before}, ${after}]`);
});

Deno.test("nowMicros() is close to Date.now() and never goes backwards", () => {
  const first = nowMicros();
  assert.ok(Number.isInteger(first));
  assert.ok(Math.abs(first / 1000 - Date.now()) < 1000);
  let previous = first;
  for (let i = 0; i < 10000; i++) {
    const next = nowMicros();
    assert.ok(next >= previous, `${next} < ${previous}`);
    previous = next;
  }
});

Deno.test("nowMicros() has sub-millisecond resolution", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(nowMicros() % 1000);
  assert.ok(seen.size > 1, "microsecond digits are always the same");
});
