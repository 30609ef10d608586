/**
 * Helpers for the HTTP API tests: an API server on a test bus (port 0),
 * logins, raw events with fixed stamps, and waiting for the hub.
 *
 * @module
 */
import { type Browser, chromium } from "npm:playwright-core@1.65.1";
import { resolveConfig } from "../bus/config.ts";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { hashPassword } from "../api/auth.ts";
import { type ApiServer, startApi } from "../api/server.ts";
import { captureLog, sleep, type TestBus } from "./harness.ts";

/** A fixed `_stamp`, so that output is byte-exact. */
export const STAMP = "2024-05-01T12:34:56.789012";

/** Password of the test users (hashed with few iterations to keep tests fast). */
export const PASSWORD = "s3cret pw";

/**
 * `external_auth` with users alice (all perms), bob (none) and carol
 * (`test.*` anywhere, `grains.*` on web1, the `jobs` runners).
 */
export const EXTERNAL_AUTH: Promise<Record<string, unknown>> = (async () => {
  const password = await hashPassword(PASSWORD, { iterations: 1000 });
  return {
    saltbus: {
      alice: { password, perms: [".*", "@runner", "@wheel"] },
      bob: { password, perms: [] },
      carol: { password, perms: ["test.*", { web1: ["grains.*"] }, "@jobs"] },
    },
  };
})();

/**
 * Starts an API server on `t`'s in-process bus, port 0, tokens in memory,
 * and waits until its hub listens. `extra` adds master options.
 *
 * @example
 * ```ts
 * await using t = await startTestBus();
 * await using api = await startTestApi(t);
 * ```
 */
export async function startTestApi(
  t: TestBus,
  extra: Record<string, unknown> = {},
): Promise<ApiServer & { logs: string[] }> {
  const config = resolveConfig("master", {
    sock_dir: t.sockDir,
    api: { port: 0 },
    api_token_file: "",
    external_auth: await EXTERNAL_AUTH,
    ...extra,
  });
  const { log, lines } = captureLog();
  const api = await startApi({ config, bus: t.bus, log });
  await api.hub.connected();
  return Object.assign(api, { logs: lines });
}

/** Logs in through `POST /login` (JSON) and resolves the token. */
export async function login(api: ApiServer, username = "alice"): Promise<string> {
  const res = await fetch(`${api.url}login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD, eauth: "saltbus" }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.return[0].token;
}

/** Writes one raw frame (data as given, `_stamp` included) into the bus's pull socket. */
export async function fireRaw(t: TestBus, tag: string, data: Record<string, unknown>) {
  const conn = await Deno.connect({ transport: "unix", path: t.bus.paths.pull });
  try {
    await conn.write(packEventFrame(tag, packData(data)));
  } finally {
    conn.close();
  }
}

/**
 * Fires `saltbus/test/sync` until the hub has seen it: afterwards every
 * event fired reaches the hub. Resolves the id it got.
 */
export async function syncHub(t: TestBus, api: ApiServer): Promise<number> {
  const before = api.hub.history.lastId;
  for (let i = 0; i < 200; i++) {
    await fireRaw(t, "saltbus/test/sync", { _stamp: STAMP });
    for (let j = 0; j < 10; j++) {
      if (api.hub.history.lastId > before) return api.hub.history.lastId;
      await sleep(5);
    }
  }
  throw new Error("the API hub never saw an event");
}

/** Waits until `check()` is true (polling every 10 ms), failing after `ms`. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Reads an SSE response body as text until `done(text)` is true; then cancels it. */
export async function readSse(
  res: Response,
  done: (text: string) => boolean,
  ms = 10_000,
): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  try {
    while (!done(text)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
      });
      const next = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (next === null) throw new Error(`timed out reading the stream; got:\n${text}`);
      if (next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text;
}

/** Where Debian's chromium package puts the browser (playwright cannot download one here). */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a closed network: without them Chromium hangs on connection attempts. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches headless Chromium.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser();
 * await browser.close();
 * ```
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
