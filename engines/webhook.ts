/**
 * The `webhook` engine (Salt's `salt/engines/webhook.py`): an HTTP server
 * that fires every POST as `salt/engines/hook/<path>` with
 * `{headers, body}`; other methods get 405. No authentication, as in Salt.
 * TLS when both `ssl_crt` and `ssl_key` are set.
 *
 * ```yaml
 * engines:
 *   - webhook:
 *       port: 5000
 * ```
 *
 * @module
 */
import type { EngineContext } from "./engine_context.ts";

/** Options of the webhook engine (Salt's names and defaults). */
export interface WebhookOptions {
  /** Address to bind (default: all interfaces, Salt's `None`). */
  address?: string | null;
  /** Port (default 5000). */
  port?: number;
  /** TLS certificate file (PEM). */
  ssl_crt?: string | null;
  /** TLS key file (PEM). */
  ssl_key?: string | null;
}

/**
 * Serves until `ctx.signal` aborts.
 *
 * @example
 * ```ts
 * import { start } from "./webhook.ts";
 * import type { EngineContext } from "./engine_context.ts";
 * declare const ctx: EngineContext;
 * await start({ port: 5000 }, ctx);
 * ```
 */
export async function start(options: WebhookOptions, ctx: EngineContext): Promise<void> {
  const port = options.port ?? 5000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`webhook: port must be a port number, not ${JSON.stringify(port)}`);
  }
  const tls = options.ssl_crt && options.ssl_key
    ? {
      cert: await Deno.readTextFile(options.ssl_crt),
      key: await Deno.readTextFile(options.ssl_key),
    }
    : {};
  const server = Deno.serve({
    hostname: options.address ?? "0.0.0.0",
    port,
    signal: ctx.signal,
    ...tls,
    onListen: ({ hostname, port }) =>
      ctx.log.info(`webhook engine listening on ${hostname}:${port}`),
  }, async (request) => {
    if (request.method !== "POST") {
      return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "POST" } });
    }
    const path = decodeURIComponent(new URL(request.url).pathname.replace(/^\//, ""));
    const headers: Record<string, string> = {};
    // Tornado's header names, title-cased (Content-Type).
    request.headers.forEach((value, key) => {
      headers[key.replace(/(^|-)([a-z])/g, (_m, d, c) => d + c.toUpperCase())] = value;
    });
    const body = await request.text();
    const sent = await ctx.fire(`salt/engines/hook/${path}`, { headers, body });
    return sent ? new Response(null, { status: 200 }) : new Response("not sent\n", { status: 503 });
  });
  await server.finished;
}
