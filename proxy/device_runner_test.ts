import assert from "node:assert/strict";
import { join } from "node:path";
import { captureLog } from "../tests/harness.ts";
import { buildProxyLoader, DeviceRunner, type ProxyJob } from "./device_runner.ts";
import { dummyArpTable } from "./dummy.ts";

function job(overrides: Partial<ProxyJob> = {}): ProxyJob {
  return {
    fun: "test.ping",
    args: [],
    kwargs: {},
    timeoutMs: 5000,
    opts: { log_level: "warning" },
    proxyModuleDirs: [],
    ...overrides,
  };
}

/** A temp dir with files; removed by the returned disposer. */
async function tempFiles(
  files: Record<string, string>,
): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-proxy-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("DeviceRunner runs test.ping on a dummy device", async () => {
  const runner = new DeviceRunner(job(), captureLog().log);
  assert.deepEqual(await runner.run("sw1", { proxytype: "dummy" }), {
    id: "sw1",
    return: true,
    retcode: 0,
    success: true,
    status: "ok",
  });
});

Deno.test("net.arp returns NAPALM's {out, result, comment}, filtered by keyword", async () => {
  const all = await new DeviceRunner(job({ fun: "net.arp" }), captureLog().log)
    .run("sw1", { proxytype: "dummy" });
  assert.deepEqual(all.return, { out: dummyArpTable("sw1"), result: true, comment: "" });
  const table = dummyArpTable("sw1");
  assert.deepEqual(Object.keys(table[0]), ["interface", "mac", "ip", "age"]);
  assert.match(table[0].mac, /^00:1C(:[0-9A-F]{2}){4}$/);

  const one = await new DeviceRunner(
    job({ fun: "net.arp", kwargs: { interface: "Ethernet2" } }),
    captureLog().log,
  ).run("sw1", { proxytype: "dummy" });
  assert.deepEqual(one.return, { out: [table[1]], result: true, comment: "" });
  const byIp = await new DeviceRunner(
    job({ fun: "net.arp", args: ["", table[2].ip] }),
    captureLog().log,
  ).run("sw1", { proxytype: "dummy" });
  assert.deepEqual((byIp.return as { out: unknown[] }).out, [table[2]]);
});

Deno.test("grains.items holds the proxy's grains over the roster's, and the id", async () => {
  const result = await new DeviceRunner(job({ fun: "grains.items" }), captureLog().log)
    .run("sw9", { proxytype: "dummy", grains: { role: "edge", os: "overridden" } });
  const grains = result.return as Record<string, unknown>;
  assert.equal(grains.role, "edge");
  assert.equal(grains.os, "dummy");
  assert.equal(grains.id, "sw9");
  assert.equal(grains.vendor, "saltbus");
});

Deno.test("a device whose init() fails is unreachable; an unknown proxytype too", async () => {
  const runner = new DeviceRunner(job(), captureLog().log);
  const down = await runner.run("sw3", { proxytype: "dummy", unreachable: true });
  assert.equal(down.status, "unreachable");
  assert.equal(down.success, false);
  assert.equal(down.retcode, 1);
  assert.equal(
    down.return,
    "Unable to connect to sw3 (dummy proxy): dummy device sw3 is unreachable " +
      "(unreachable: true in the roster)",
  );
  const unknown = await runner.run("x1", { proxytype: "nosuch" });
  assert.equal(unknown.status, "unreachable");
  assert.match(String(unknown.return), /no proxy module nosuch: not built in/);
});

Deno.test("user proxy modules: a throwing function fails, a hanging one times out", async () => {
  await using tmp = await tempFiles({
    "failing.ts": `export function init() {}
export function arp() { throw new TypeError("the device said no"); }`,
    "hanging.ts": `export function arp() { return new Promise(() => {}); }`,
  });
  const runner = new DeviceRunner(
    job({ fun: "net.arp", timeoutMs: 50, proxyModuleDirs: [tmp.dir] }),
    captureLog().log,
  );
  const [failed, hung, fine] = await Promise.all([
    runner.run("bad1", { proxytype: "failing" }),
    runner.run("slow1", { proxytype: "hanging" }),
    runner.run("sw1", { proxytype: "dummy" }),
  ]);
  assert.deepEqual(failed, {
    id: "bad1",
    return: "The minion function caused an exception: TypeError: the device said no",
    retcode: 1,
    success: false,
    status: "failed",
  });
  assert.deepEqual(hung, {
    id: "slow1",
    return: "Timed out after 0.05 s",
    retcode: 1,
    success: false,
    status: "timeout",
  });
  assert.equal(fine.status, "ok");
});

const PROXY_MODULE_URL = JSON.stringify(new URL("./proxy_module.ts", import.meta.url).href);

Deno.test("execution modules reach the device through opts.__proxy__; shutdown() runs", async () => {
  await using tmp = await tempFiles({
    "proxy/counter.ts": `export const log = [];
export function init() { this.state.n = 41; log.push("init " + this.id); }
export function bump(by = 1) { return this.state.n += by; }
export function shutdown() { log.push("shutdown " + this.id + " " + this.state.n); }`,
    "modules/count.ts": `import { proxyFunctions } from ${PROXY_MODULE_URL};
export async function up(by = 1) {
  return await proxyFunctions(this)["counter.bump"](by);
}`,
  });
  const runner = new DeviceRunner(
    job({
      fun: "count.up",
      args: [2],
      opts: { module_dirs: [join(tmp.dir, "modules")] },
      proxyModuleDirs: [join(tmp.dir, "proxy")],
    }),
    captureLog().log,
  );
  const [a, b] = await Promise.all([
    runner.run("c1", { proxytype: "counter" }),
    runner.run("c2", { proxytype: "counter" }),
  ]);
  assert.equal(a.return, 43);
  assert.equal(b.return, 43, "each device has its own state");
  const { log } = await import(new URL(`file://${join(tmp.dir, "proxy", "counter.ts")}`).href);
  assert.deepEqual([...log].sort(), ["init c1", "init c2", "shutdown c1 43", "shutdown c2 43"]);
});

Deno.test("argument mistakes and a function that is not there fail the device", async () => {
  const bad = await new DeviceRunner(job({ fun: "test.echo" }), captureLog().log)
    .run("sw1", { proxytype: "dummy" });
  assert.equal(bad.status, "failed");
  assert.match(String(bad.return), /^Passed invalid arguments: test\.echo\(\)/);
  const missing = await new DeviceRunner(job({ fun: "nope.nothing" }), captureLog().log)
    .run("sw1", { proxytype: "dummy" });
  assert.equal(missing.return, "'nope.nothing' is not available.");
});

Deno.test("buildProxyLoader adds net.arp, and a custom net module wins over it", async () => {
  {
    await using loader = await buildProxyLoader({ opts: {}, grains: {} });
    assert.ok(loader.has("net.arp"));
  }
  await using tmp = await tempFiles({
    "net.ts": `export function arp() { return "mine"; }
export function cli() { return "cli"; }`,
  });
  await using loader = await buildProxyLoader({ opts: { module_dirs: [tmp.dir] }, grains: {} });
  assert.equal(await loader.call("net.arp"), "mine");
  assert.equal(await loader.call("net.cli"), "cli");
});

Deno.test("net.arp outside a proxy run says so", async () => {
  await using loader = await buildProxyLoader({ opts: {}, grains: {} });
  assert.deepEqual(await loader.call("net.arp"), {
    out: null,
    result: false,
    comment: "net.arp runs on proxied devices only (cli.ts proxy …)",
  });
});
