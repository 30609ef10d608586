import assert from "node:assert/strict";
import { hookData, hookTag, WebhookError } from "./webhook.ts";

Deno.test("hookTag joins the path under salt/netapi/hook", () => {
  assert.equal(hookTag("/hook"), "salt/netapi/hook");
  assert.equal(hookTag("/hook/"), "salt/netapi/hook");
  assert.equal(hookTag("/hook/github/push"), "salt/netapi/hook/github/push");
  assert.equal(hookTag("/hook/a%20b"), "salt/netapi/hook/a b");
  assert.equal(hookTag("/hook/100%"), "salt/netapi/hook/100%");
});

Deno.test("hookData: body as text, JSON or form parsed into post, Title-Case headers without credentials", async () => {
  const req = new Request("http://x/hook/a", {
    method: "POST",
    body: `{"a": [1]}`,
    headers: {
      "content-type": "application/json",
      "x-auth-token": "secret",
      "x-custom-thing": "1",
    },
  });
  const data = await hookData(req, 1000);
  assert.deepEqual(data.post, { a: [1] });
  assert.equal(data.body, `{"a": [1]}`);
  assert.deepEqual(data.headers, { "Content-Type": "application/json", "X-Custom-Thing": "1" });
  const plain = await hookData(new Request("http://x/hook", { method: "POST", body: "hi" }), 10);
  assert.deepEqual(plain.post, {});
  await assert.rejects(
    hookData(new Request("http://x/hook", { method: "POST", body: "x".repeat(11) }), 10),
    (err) => err instanceof WebhookError && err.status === 413,
  );
  await assert.rejects(
    hookData(
      new Request("http://x/hook", {
        method: "POST",
        body: "{",
        headers: { "content-type": "application/json" },
      }),
      10,
    ),
    (err) => err instanceof WebhookError && err.status === 400,
  );
});
