import assert from "node:assert/strict";
import {
  hashPassword,
  parsePasswordHash,
  requestToken,
  TokenStore,
  verifyPassword,
} from "./auth.ts";

Deno.test("hashPassword makes PBKDF2 hashes that verifyPassword accepts, salted", async () => {
  const a = await hashPassword("pw", { iterations: 1000 });
  const b = await hashPassword("pw", { iterations: 1000 });
  assert.notEqual(a, b);
  assert.equal(parsePasswordHash(a)?.iterations, 1000);
  assert.ok(await verifyPassword("pw", a));
  assert.ok(!(await verifyPassword("pW", a)));
  assert.ok(!(await verifyPassword("pw", undefined)));
  assert.equal(parsePasswordHash("pbkdf2-sha256$0$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=="), null);
  assert.equal(parsePasswordHash("sha256$1$a$b"), null);
});

Deno.test("TokenStore issues 64-hex tokens, rejects unknown, malformed, revoked and expired ones", async () => {
  const store = new TokenStore();
  const info = await store.issue("alice", "saltbus", [".*"], 3600);
  assert.match(info.token, /^[0-9a-f]{64}$/);
  assert.equal(store.lookup(info.token)?.user, "alice");
  assert.equal(store.lookup(info.token.toUpperCase())?.user, "alice");
  // Same selector, other secret part.
  assert.equal(store.lookup(info.token.slice(0, 16) + "0".repeat(48)), null);
  assert.equal(store.lookup("xyz"), null);
  assert.equal(store.lookup(null), null);
  assert.ok(await store.revoke(info.token));
  assert.equal(store.lookup(info.token), null);
  const short = await store.issue("bob", "saltbus", [], -1);
  assert.equal(store.lookup(short.token), null);
});

Deno.test("TokenStore keeps tokens across instances in its file, as digests only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sub/tokens.json`;
    const first = new TokenStore({ file });
    const info = await first.issue("alice", "saltbus", [], 3600);
    assert.ok(!(await Deno.readTextFile(file)).includes(info.token.slice(16)));
    const second = new TokenStore({ file });
    await second.load();
    assert.equal(second.lookup(info.token)?.user, "alice");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requestToken looks in query token, salt_token, X-Auth-Token, then the session_id cookie", () => {
  const token = (url: string, headers: Record<string, string> = {}) => {
    const req = new Request(url, { headers });
    return requestToken(req, new URL(req.url));
  };
  assert.equal(token("http://x/?token=a&salt_token=b", { "x-auth-token": "c" }), "a");
  assert.equal(token("http://x/?salt_token=b", { "x-auth-token": "c" }), "b");
  assert.equal(token("http://x/", { "x-auth-token": "c", cookie: "session_id=d" }), "c");
  assert.equal(token("http://x/", { cookie: "a=1; session_id=d; b=2" }), "d");
  assert.equal(token("http://x/"), null);
});
