import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { hasApiBlock, resolveApiSettings } from "./config.ts";

Deno.test("resolveApiSettings: defaults, and the token file in sock_dir", () => {
  const s = resolveApiSettings(resolveConfig("master", { sock_dir: "/tmp/bus" }));
  assert.equal(s.port, 8000);
  assert.equal(s.host, "127.0.0.1");
  assert.equal(s.tokenExpire, 43200);
  assert.equal(s.historySize, 10_000);
  assert.equal(s.clientBuffer, 8 * 1024 * 1024);
  assert.equal(s.webhookMaxBody, 1024 * 1024);
  assert.equal(s.keepalive, 15);
  assert.equal(s.tokenFile, "/tmp/bus/api_tokens.json");
  assert.equal(s.users.size, 0);
  assert.ok(hasApiBlock({ api: null }));
  assert.ok(!hasApiBlock({}));
});

Deno.test("resolveApiSettings: a bad value is a ConfigError naming the option and the file", () => {
  const bad = (options: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => resolveApiSettings(resolveConfig("master", options), "/etc/m"),
      (err) => err instanceof ConfigError && message.test(err.message),
    );
  bad({ api: { port: "x" } }, /^api\.port in \/etc\/m: expected an integer ≥ 0, got "x"$/);
  bad({ api: [1] }, /^api in \/etc\/m: expected a mapping/);
  bad({ api: { disable_ssl: "yes" } }, /^api\.disable_ssl in \/etc\/m/);
  bad({ token_expire: 0 }, /^token_expire in \/etc\/m/);
  bad({ api_client_buffer: 10 }, /^api_client_buffer in \/etc\/m: expected an integer ≥ 1024/);
  bad({ webhook_disable_auth: 1 }, /^webhook_disable_auth in \/etc\/m/);
  bad(
    { external_auth: { saltbus: { alice: { password: "pw" } } } },
    /^external_auth\.saltbus\.alice\.password in \/etc\/m/,
  );
  bad(
    { external_auth: { saltbus: { alice: ["x"] } } },
    /^external_auth\.saltbus\.alice in \/etc\/m/,
  );
});
