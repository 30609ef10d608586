import assert from "node:assert/strict";
import {
  configSocketPaths,
  defaultConfig,
  loadConfig,
  pubSocketMode,
  resolveConfig,
} from "./config.ts";
import { ConfigError } from "./errors.ts";

Deno.test("defaultConfig() has Salt's defaults where saltbus keeps them", () => {
  const config = defaultConfig("master");
  assert.equal(config.max_event_size, 1048576);
  assert.equal(config.event_match_type, "startswith");
  assert.equal(config.hash_type, "sha256");
  assert.equal(config.ipc_write_buffer, 16 * 1024 * 1024);
});

Deno.test("resolveConfig() names the option and the source of a bad value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ max_event_size: "big" }, /^max_event_size in my\.yaml: expected a positive integer/],
    [{ ipc_write_buffer: -1 }, /^ipc_write_buffer in my\.yaml/],
    [{ event_match_type: "glob" }, /^event_match_type in my\.yaml: expected one of startswith/],
    [{ log_level: "loud" }, /^log_level in my\.yaml/],
    [{ hash_type: "nohash" }, /hash_type.*nohash.*my\.yaml/],
    [{ sock_dir: "" }, /^sock_dir in my\.yaml/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(() => resolveConfig("minion", options, "my.yaml"), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, pattern);
      return true;
    });
  }
});

Deno.test("resolveConfig() keeps unknown Salt options and stringifies ids", () => {
  const config = resolveConfig("minion", { id: 42, file_client: "local", sock_dir: "/x" });
  assert.equal(config.id, "42");
  assert.equal(config.file_client, "local");
  assert.equal(configSocketPaths(config).pub, "/x/minion_event_73475cb40a_pub.ipc");
});

Deno.test("pubSocketMode() is 0660 only for a master with group access configured", () => {
  assert.equal(pubSocketMode(resolveConfig("master")), 0o600);
  assert.equal(pubSocketMode(resolveConfig("master", { publisher_acl: { bob: [".*"] } })), 0o660);
  assert.equal(pubSocketMode(resolveConfig("master", { external_auth: { pam: {} } })), 0o660);
  assert.equal(pubSocketMode(resolveConfig("master", { sock_group_access: true })), 0o660);
  assert.equal(pubSocketMode(resolveConfig("master", { publisher_acl: {} })), 0o600);
  assert.equal(pubSocketMode(resolveConfig("minion", { sock_group_access: true })), 0o600);
});

Deno.test("loadConfig() reads YAML 1.1, lets overrides win, and reports file problems", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/master`, "sock_dir: /from/file\nsock_group_access: yes\n");
    const config = await loadConfig("master", `${dir}/master`, { sock_dir: "/from/cli" });
    assert.equal(config.sock_dir, "/from/cli");
    assert.equal(config.sock_group_access, true, "YAML 1.1: yes is true");
    await Deno.writeTextFile(`${dir}/list`, "- a\n- b\n");
    await assert.rejects(loadConfig("master", `${dir}/list`), /must be a mapping/);
    await assert.rejects(loadConfig("master", `${dir}/none`), /cannot read config file .*none/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
