import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { defaultMaxConnections, hasApiBlock, resolveApiSettings } from "./config.ts";

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
  assert.equal(s.maxRequestBodySize, 1048576);
  assert.equal(s.loginMaxBodySize, 65536);
  assert.equal(s.corsOrigin, null);
  assert.equal(s.requestTimeout, 10);
  assert.equal(s.maxConnections, defaultMaxConnections());
  assert.equal(s.loginFailuresAllowed, 5);
  assert.equal(s.loginMaxDelay, 60);
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

Deno.test("resolveApiSettings: salt-api's max_request_body_size and cors_origin, and the saltbus limits", () => {
  const s = resolveApiSettings(resolveConfig("master", {
    sock_dir: "/tmp/bus",
    api: {
      max_request_body_size: 2048,
      cors_origin: ["http://ui.example:3000", "https://salt.example"],
      request_timeout: 2.5,
      max_connections: 64,
      login_max_body_size: 1024,
    },
  }));
  assert.equal(s.maxRequestBodySize, 2048);
  assert.equal(s.webhookMaxBody, 2048, "webhook_max_body follows max_request_body_size");
  assert.deepEqual(s.corsOrigin, ["http://ui.example:3000", "https://salt.example"]);
  assert.equal(s.requestTimeout, 2.5);
  assert.equal(s.maxConnections, 64);
  assert.equal(s.loginMaxBodySize, 1024);
  const star = resolveApiSettings(resolveConfig("master", { api: { cors_origin: "*" } }));
  assert.equal(star.corsOrigin, "*");
  const one = resolveApiSettings(resolveConfig("master", { api: { cors_origin: "http://a:1" } }));
  assert.deepEqual(one.corsOrigin, ["http://a:1"]);
  const bad = (api: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => resolveApiSettings(resolveConfig("master", { api }), "/etc/m"),
      (err) => err instanceof ConfigError && message.test(err.message),
    );
  bad({ cors_origin: "ui.example" }, /^api\.cors_origin in \/etc\/m: expected an origin/);
  bad({ cors_origin: ["http://a/b"] }, /^api\.cors_origin in \/etc\/m/);
  bad(
    { request_timeout: 0 },
    /^api\.request_timeout in \/etc\/m: expected a number of seconds > 0/,
  );
  bad({ max_connections: 0 }, /^api\.max_connections in \/etc\/m: expected an integer ≥ 1/);
  bad({ max_request_body_size: -1 }, /^api\.max_request_body_size in \/etc\/m/);
});

Deno.test("defaultMaxConnections stays at half the descriptor limit, at most 1024", () => {
  assert.equal(defaultMaxConnections(256), 128);
  assert.equal(defaultMaxConnections(1024), 512);
  assert.equal(defaultMaxConnections(1_000_000), 1024);
  assert.equal(defaultMaxConnections(null), 1024);
});

Deno.test("a Salt master's rest_cherrypy: block starts the API as written; api: wins key by key", () => {
  assert.equal(hasApiBlock({ rest_cherrypy: { port: 8000 } }), true);
  assert.equal(hasApiBlock({}), false);
  const cherry = resolveApiSettings(
    resolveConfig("master", { rest_cherrypy: { port: 8123, host: "127.0.0.2" } }),
  );
  assert.equal(cherry.port, 8123);
  assert.equal(cherry.host, "127.0.0.2");
  const both = resolveApiSettings(
    resolveConfig("master", { rest_cherrypy: { port: 8123, host: "127.0.0.2" }, api: { port: 9 } }),
  );
  assert.equal(both.port, 9);
  assert.equal(both.host, "127.0.0.2");
  assert.throws(
    () => resolveApiSettings(resolveConfig("master", { rest_cherrypy: { port: "x" } }), "/etc/m"),
    /rest_cherrypy\.port in \/etc\/m: expected an integer/,
  );
});
