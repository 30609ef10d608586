/**
 * The built-in engines by name (statically imported, so `deno compile`
 * carries them): `webhook`, `http_logstash`, `script`, `test` and (for
 * minions) `reactor`.
 *
 * @module
 */
import type { EngineModule } from "./engine_context.ts";
import * as httpLogstash from "./http_logstash.ts";
import * as reactor from "./reactor_engine.ts";
import * as script from "./script.ts";
import * as test from "./test.ts";
import * as webhook from "./webhook.ts";

/**
 * The built-in engine modules.
 *
 * @example
 * ```ts
 * import { BUILTIN_ENGINES } from "./builtin.ts";
 * console.log(Object.keys(BUILTIN_ENGINES)); // ["http_logstash", "reactor", "script", "test", "webhook"]
 * ```
 */
export const BUILTIN_ENGINES: Readonly<Record<string, EngineModule>> = Object.freeze({
  http_logstash: httpLogstash as unknown as EngineModule,
  reactor: reactor as unknown as EngineModule,
  script: script as unknown as EngineModule,
  test: test as unknown as EngineModule,
  webhook: webhook as unknown as EngineModule,
});
