/**
 * A node's NATS NKey: its seed in `<pki_dir>/<name>.nk` (0600, made on first
 * start, the directory 0700 and owner-only) and the public key that names it
 * in the master's key registry (`U…`, 56 characters).
 *
 * @module
 */
import { createUser, fromPublic, fromSeed } from "npm:@nats-io/nkeys@2.0.3";
import { join } from "node:path";
import { checkPrivateDir, checkPrivateFile } from "./private_path.ts";

/** A loaded key pair. */
export interface NodeKey {
  /** The seed (`SU…`), as bytes, for nats.js's nkey authenticator. */
  seed: Uint8Array;
  /** The public key (`U…`). */
  publicKey: string;
  /** Signs `data`. */
  sign(data: Uint8Array): Uint8Array;
}

/**
 * Loads `<pkiDir>/<name>.nk`, making a new key pair first when there is none.
 *
 * @example
 * ```ts
 * import { loadNodeKey } from "./nkey_file.ts";
 * const key = await loadNodeKey(await Deno.makeTempDir(), "minion");
 * key.publicKey.startsWith("U"); // true
 * ```
 */
export async function loadNodeKey(pkiDir: string, name: string): Promise<NodeKey> {
  const dir = await checkPrivateDir(pkiDir, { create: true, option: "pki_dir" });
  const path = join(dir, `${name}.nk`);
  let seedText: string;
  if (await checkPrivateFile(path, { option: "pki_dir" })) {
    seedText = (await Deno.readTextFile(path)).trim();
  } else {
    seedText = new TextDecoder().decode(createUser().getSeed());
    await Deno.writeTextFile(path, seedText + "\n", { mode: 0o600, createNew: true });
  }
  const seed = new TextEncoder().encode(seedText);
  let pair;
  try {
    pair = fromSeed(seed);
  } catch (err) {
    throw new Error(`${path} does not hold an NKey seed: ${(err as Error).message}`);
  }
  return { seed, publicKey: pair.getPublicKey(), sign: (data) => pair.sign(data) };
}

/**
 * Whether `signature` is `publicKey`'s signature of `data`.
 *
 * @example
 * ```ts
 * import { loadNodeKey, verifySignature } from "./nkey_file.ts";
 * const key = await loadNodeKey(await Deno.makeTempDir(), "minion");
 * const data = new TextEncoder().encode("hello");
 * verifySignature(key.publicKey, data, key.sign(data)); // true
 * ```
 */
export function verifySignature(
  publicKey: string,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return fromPublic(publicKey).verify(data, signature);
  } catch {
    return false;
  }
}
