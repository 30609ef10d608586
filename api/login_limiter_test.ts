import assert from "node:assert/strict";
import { LoginLimiter, userTag } from "./login_limiter.ts";

Deno.test("LoginLimiter admits the free failures of concurrent attempts, then one at a time behind growing locks", () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({
    allowed: 3,
    initialDelayMs: 1000,
    maxDelayMs: 4000,
    now: () => now,
  });
  // 20 attempts begun before any finishes (as concurrent requests are).
  const admissions = Array.from({ length: 20 }, () => limiter.begin("alice", "10.0.0.1"));
  const admitted = admissions.filter((a) => a.ok);
  assert.equal(admitted.length, 3, "only the free failures get through at once");
  for (const a of admissions) if (!a.ok) assert.ok(a.retryAfterMs > 0);
  const locks = admitted.map((a) => a.ok ? a.finish(false) : null);
  assert.deepEqual(locks.at(-1), { by: "user", failures: 3, delayMs: 1000 });
  const locked = limiter.begin("alice", "10.0.0.1");
  assert.ok(!locked.ok && locked.retryAfterMs === 1000);
  // The delay doubles with each further failure, up to the maximum.
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    now += 5000;
    const a = limiter.begin("alice", "10.0.0.1");
    assert.ok(a.ok);
    delays.push(a.finish(false)!.delayMs);
  }
  assert.deepEqual(delays, [2000, 4000, 4000, 4000]);
  // A success clears the user, not the address.
  now += 5000;
  const good = limiter.begin("alice", "10.0.0.1");
  assert.ok(good.ok);
  assert.equal(good.finish(true), null);
  const other = limiter.begin("bob", "10.0.0.1");
  assert.ok(other.ok, "the address lock has expired");
  const lock = other.finish(false);
  assert.equal(lock?.by, "address", "the address keeps its failures after alice's success");
});

Deno.test("LoginLimiter locks an address that sprays many user names, and forgets keys after a quiet time", () => {
  let now = 0;
  const limiter = new LoginLimiter({ allowed: 5, forgetMs: 60_000, maxKeys: 100, now: () => now });
  for (let i = 0; i < 5; i++) {
    const a = limiter.begin(`user${i}`, "10.0.0.2");
    assert.ok(a.ok);
    a.finish(false);
  }
  const sixth = limiter.begin("user5", "10.0.0.2");
  assert.ok(!sixth.ok && sixth.by === "address");
  assert.ok(limiter.begin("user5", "10.0.0.3").ok, "another address is not affected");
  now += 120_000;
  assert.ok(limiter.begin("user6", "10.0.0.2").ok, "forgotten after forgetMs");
  for (let i = 0; i < 500; i++) {
    const a = limiter.begin(`spray${i}`, `10.1.${i >> 8}.${i & 255}`);
    if (a.ok) a.finish(false);
  }
  assert.ok(limiter.size <= 100, `keys stay bounded by maxKeys (${limiter.size})`);
});

Deno.test("userTag is a stable short hash that does not contain the name", () => {
  assert.match(userTag("hunter2"), /^[0-9a-f]{8}$/);
  assert.equal(userTag("hunter2"), userTag("hunter2"));
  assert.notEqual(userTag("hunter2"), userTag("hunter3"));
});
