/**
 * salt-api's HTTP API: `/login`, `/events` (SSE), WebSockets, webhooks and
 * the live viewer, on the API's own hardened HTTP/1.1 listener (timeouts,
 * a connection bound, accept errors survived).
 *
 * ```ts
 * import { startApi } from "@saltbus/saltbus/api";
 * import { resolveConfig } from "@saltbus/saltbus";
 *
 * const api = await startApi({ config: resolveConfig("master", { api: { port: 8000 } }) });
 * ```
 *
 * @module
 */
export { ApiServer, ApiStartError, startApi, type StartApiOptions } from "./server.ts";
export {
  type ApiSettings,
  type ApiUser,
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  DEFAULT_TOKEN_EXPIRE,
  defaultMaxConnections,
  resolveApiSettings,
} from "./config.ts";
export type { CorsOrigin } from "./origin.ts";
export type { StaticAppSettings } from "./static_app.ts";
export {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  type TokenInfo,
  type TokenRecord,
  TokenStore,
  verifyPassword,
} from "./auth.ts";
export { CLIENT_DROPPED_TAG, MISSED_TAG } from "./sse.ts";
export type { EventBatch, EventHub, EventHubOptions, HubClient, LiveEvent } from "./event_hub.ts";
export type { History, HistoryEntry, HistoryStore, Resume } from "./history.ts";
