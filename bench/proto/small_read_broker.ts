/**
 * Prototype for a library fix, measured by the memory benchmark: a minimal
 * broker process (the broker worker's routing, on the main thread) whose
 * Unix channels either return each read as a view into a fresh 64 KiB buffer
 * (as workers/unix_channel.ts does today) or, with `--patched`, copy reads
 * smaller than 16 KiB out of a reused buffer. A queued 200-byte frame then
 * no longer pins a 64 KiB ArrayBuffer, so `ipc_write_buffer` bounds memory.
 *
 * Usage: `deno run --allow-all bench/proto/small_read_broker.ts --sock-dir DIR --buffer BYTES [--patched]`
 * Prints "master bus ready" on stderr when listening; stops on SIGTERM.
 *
 * @module
 */
import { silentLogger } from "../../bus/log.ts";
import { Router } from "../../bus/router.ts";
import type { ByteChannel } from "../../bus/transport.ts";
import { UnixChannel } from "../../workers/unix_channel.ts";
import { ensureSockDir, listenUnix } from "../../workers/unix_listener.ts";
import { numFlag, parseFlags } from "../common.ts";

const READ_SIZE = 64 * 1024;

/** UnixChannel with the proposed fix: small reads are copied out of one reused buffer. */
class CopyingUnixChannel extends UnixChannel {
  #buffer = new Uint8Array(READ_SIZE);

  /** Next chunk: a copy when small, else the (handed-over) read buffer. */
  override async read(): Promise<Uint8Array | null> {
    let n: number | null;
    try {
      n = await this.conn.read(this.#buffer);
    } catch {
      return null;
    }
    if (n === null) return null;
    if (n < READ_SIZE / 4) return this.#buffer.slice(0, n);
    const chunk = this.#buffer.subarray(0, n);
    this.#buffer = new Uint8Array(READ_SIZE);
    return chunk;
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const sockDir = flags["sock-dir"];
  const router = new Router({
    writeBufferLimit: numFlag(flags, "buffer", 16 * 1024 * 1024),
    maxFrameSize: 16 * 1024 * 1024,
    log: {
      ...silentLogger,
      warning: (m: string) => console.error(`[proto warning] ${m}`),
    },
  });
  const wrap = (conn: Deno.Conn): ByteChannel =>
    flags.patched ? new CopyingUnixChannel(conn) : new UnixChannel(conn);
  await ensureSockDir(sockDir);
  const pull = await listenUnix(`${sockDir}/master_event_pull.ipc`, 0o600);
  const pub = await listenUnix(`${sockDir}/master_event_pub.ipc`, 0o600);
  (async () => {
    for await (const conn of pull) {
      const channel = wrap(conn);
      const input = router.addPublisher("pull");
      (async () => {
        try {
          for (let chunk; (chunk = await channel.read()) !== null;) input.push(chunk);
        } finally {
          input.close();
          channel.close();
        }
      })();
    }
  })();
  (async () => {
    for await (const conn of pub) {
      const channel = wrap(conn);
      const remove = router.addSubscriber({
        write: (b) => channel.write(b),
        close: () => channel.close(),
      }, "pub");
      (async () => {
        try {
          while ((await channel.read()) !== null) { /* ignore */ }
        } catch {
          /* gone */
        } finally {
          remove();
          channel.close();
        }
      })();
    }
  })();
  console.error(`master bus ready (prototype, patched=${!!flags.patched})`);
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
  pull.close();
  pub.close();
  router.closeAll();
  Deno.exit(0);
}
