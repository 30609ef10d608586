import assert from "node:assert/strict";
import {
  configSocketPaths,
  defaultConfig,
  defaultIpcWriteBuffer,
  loadConfig,
  pubSocketMode,
  resolveConfig,
} from "./config.ts";
import { ConfigError } from "./errors.ts";
import { createLogger } from "./log.ts";

Deno.test("defaultConfig() has Salt's defaults where saltbus keeps them", () => {
  const config = defaultConfig("master");
  assert.equal(config.max_event_size, 1048576);
  assert.equal(config.event_match_type, "startswith");
  assert.equal(config.hash_type, "sha256");
  // Salt's _DFLT_IPC_WBUFFER: ½·max(5 % of RAM, 10 MiB) (this test runs with --allow-sys).
  const ram = Deno.systemMemoryInfo().total;
  assert.equal(config.ipc_write_buffer, Math.floor(Math.max(ram * 0.05, 10 * 1024 * 1024) / 2));
  assert.equal(
    resolveConfig("master", { sock_dir: "/x" }).ipc_write_buffer,
    config.ipc_write_buffer,
  );
  // saltbus's own delivery options.
  assert.equal(config.subscriber_overflow, "skip");
  assert.equal(config.subscriber_stall_timeout, 60);
  assert.equal(config.partial_frames_limit, 64 * 1024 * 1024);
});

Deno.test("defaultIpcWriteBuffer() follows Salt's formula, with its 10 MiB floor", () => {
  assert.equal(
    defaultIpcWriteBuffer({ totalMemory: 24 * 2 ** 30 }),
    Math.floor(24 * 2 ** 30 * 0.05 / 2),
  );
  assert.equal(defaultIpcWriteBuffer({ totalMemory: 2 ** 30 }), Math.floor(2 ** 30 * 0.05 / 2));
  assert.equal(defaultIpcWriteBuffer({ totalMemory: 100 * 2 ** 20 }), 5 * 1024 * 1024);
  const lines: string[] = [];
  const log = createLogger("debug", (level, message) => lines.push(`${level}: ${message}`));
  assert.equal(defaultIpcWriteBuffer({ totalMemory: null, log }), 5 * 1024 * 1024);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^debug: ipc_write_buffer: .*--allow-sys/);
});

Deno.test("without --allow-sys the default ipc_write_buffer is 5 MiB, with a debug line, and no prompt", async () => {
  const script = `
    import { resolveConfig } from ${JSON.stringify(new URL("./config.ts", import.meta.url).href)};
    import { createLogger } from ${JSON.stringify(new URL("./log.ts", import.meta.url).href)};
    const log = createLogger("debug", (level, message) => console.log(level + ": " + message));
    const config = resolveConfig("master", { sock_dir: "/x" }, "options", log);
    console.log("ipc_write_buffer=" + config.ipc_write_buffer);
    console.log("given=" + resolveConfig("master", { sock_dir: "/x", ipc_write_buffer: 123 }).ipc_write_buffer);
  `;
  const dir = await Deno.makeTempDir({ prefix: "saltbus-config-" });
  let out: Deno.CommandOutput;
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, script);
    // Only --allow-read: no sys permission, and --no-prompt makes a prompt an error.
    out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", `${dir}/probe.ts`],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(stdout, /^debug: ipc_write_buffer: the RAM size is unknown without --allow-sys/m);
  assert.match(stdout, /^ipc_write_buffer=5242880$/m);
  assert.match(stdout, /^given=123$/m);
});

Deno.test("resolveConfig() names the option and the source of a bad value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ max_event_size: "big" }, /^max_event_size in my\.yaml: expected a positive integer/],
    [{ ipc_write_buffer: -1 }, /^ipc_write_buffer in my\.yaml/],
    [{ event_match_type: "glob" }, /^event_match_type in my\.yaml: expected one of startswith/],
    [{ log_level: "loud" }, /^log_level in my\.yaml/],
    [{ hash_type: "nohash" }, /hash_type.*nohash.*my\.yaml/],
    [{ sock_dir: "" }, /^sock_dir in my\.yaml/],
    [
      { subscriber_overflow: "drop" },
      /^subscriber_overflow in my\.yaml: expected skip or disconnect/,
    ],
    [
      { subscriber_stall_timeout: -1 },
      /^subscriber_stall_timeout in my\.yaml: expected seconds >= 0/,
    ],
    [{ subscriber_stall_timeout: "1m" }, /^subscriber_stall_timeout in my\.yaml/],
    [{ partial_frames_limit: 0 }, /^partial_frames_limit in my\.yaml: expected a positive integer/],
    [
      { partial_frames_limit: 1000, max_frame_size: 2000 },
      /^partial_frames_limit in my\.yaml: expected at least max_frame_size \(2000 bytes\), got 1000/,
    ],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(() => resolveConfig("minion", options, "my.yaml"), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, pattern);
      return true;
    });
  }
});

Deno.test("resolveConfig() raises the default partial_frames_limit with max_frame_size", () => {
  const big = resolveConfig("master", { sock_dir: "/x", max_frame_size: 100 * 2 ** 20 });
  assert.equal(big.partial_frames_limit, 200 * 2 ** 20);
  const set = resolveConfig("master", {
    sock_dir: "/x",
    subscriber_overflow: "disconnect",
    subscriber_stall_timeout: 0.5,
    partial_frames_limit: 32 * 2 ** 20,
  });
  assert.equal(set.subscriber_overflow, "disconnect");
  assert.equal(set.subscriber_stall_timeout, 0.5);
  assert.equal(set.partial_frames_limit, 32 * 2 ** 20);
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
