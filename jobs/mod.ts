/**
 * Jobs, as Salt's `salt.client.LocalClient`: publish a function to the
 * minions a target matches and collect their returns; JIDs and targeting.
 *
 * ```ts
 * import { LocalClient } from "@saltbus/saltbus/jobs";
 *
 * const client = new LocalClient();
 * console.log(await client.cmd("*", "test.ping"));
 * ```
 *
 * @module
 */
export {
  DID_NOT_RETURN,
  type JobOptions,
  LocalClient,
  type LocalClientOptions,
  type MinionReturn,
  type PublishedJob,
} from "./local_client.ts";
export {
  compileTarget,
  matchTarget,
  TARGET_TYPES,
  type TargetCandidate,
  TargetError,
  type TargetMatcher,
  type TargetType,
} from "./target.ts";
export { publishArgs, type ReturnInput, returnLoad } from "./return_load.ts";
export { genJid, type GenJidOptions, isJid, jidToDate, jidToTime } from "../bus/jid.ts";
