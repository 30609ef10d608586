/**
 * A NATS client run inside a simulated host by the multi-host tests: tries
 * what a minion with a given NKey may and may not do, and prints the
 * outcome as one JSON line.
 *
 * ```sh
 * deno run -A tests/nats_probe_proc.ts <servers> <seed file> connect|impersonate <as-id> <other-id>
 * ```
 *
 * @module
 */
import { connect, nkeyAuthenticator } from "npm:@nats-io/transport-node@3.4.0";

// nats.js lets a socket reset after a refused connection escape uncaught.
globalThis.addEventListener("error", (e) => e.preventDefault());
globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());

const [servers, seedFile, mode, self, other] = Deno.args;
const seed = new TextEncoder().encode((await Deno.readTextFile(seedFile)).trim());
try {
  const nc = await connect({
    servers,
    authenticator: nkeyAuthenticator(seed),
    inboxPrefix: `_INBOX_${self}`,
    maxReconnectAttempts: 0,
  });
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
  })();
  if (mode === "impersonate") {
    nc.publish(`salt.link.up.${other}`, new Uint8Array(40));
    nc.subscribe(`salt.link.down.${other}`);
    nc.publish(`salt.link.open.${other}`, new Uint8Array(16));
    await nc.flush();
    await new Promise((r) => setTimeout(r, 1000));
  }
  await nc.close();
  console.log(JSON.stringify({ connected: true, errors }));
} catch (err) {
  console.log(JSON.stringify({ connected: false, error: String((err as Error)?.message ?? err) }));
}
