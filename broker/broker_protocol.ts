/**
 * The typed messages between the main thread, the broker Worker and the
 * in-process actors' MessagePorts.
 *
 * @module
 */
import type { LogLevel, MessageLevel } from "../bus/log.ts";
import type { SocketPaths } from "../bus/paths.ts";
import type { OverflowPolicy } from "../bus/router.ts";

/** What the broker needs to start. */
export interface BrokerSettings {
  /** The bus's socket directory. */
  sockDir: string;
  /** Where the pub and pull sockets go. */
  paths: SocketPaths;
  /** File mode of the pub socket (0o600, or 0o660 with group access). */
  pubMode: number;
  /** Per-subscriber backlog limit in bytes (`ipc_write_buffer`). */
  writeBufferLimit: number;
  /** What happens to a subscriber over it (`subscriber_overflow`). */
  subscriberOverflow: OverflowPolicy;
  /** A subscriber whose write makes no progress this long is closed, in ms; 0: never (`subscriber_stall_timeout`). */
  stallTimeoutMs: number;
  /** Largest accepted frame in bytes. */
  maxFrameSize: number;
  /** Most bytes held for incomplete frames across all publisher connections (`partial_frames_limit`). */
  partialFramesLimit: number;
  /** Lowest level the broker reports. */
  logLevel: LogLevel;
}

/** Main thread → broker. */
export type BrokerCommand =
  | { type: "start"; settings: BrokerSettings }
  | { type: "attach"; role: "pub" | "pull"; port: MessagePort }
  | { type: "stop" }
  | { type: "crash" }
  | { type: "fail-listener"; role: "pub" | "pull" };

/** Broker → main thread. */
export type BrokerReport =
  | { type: "started" }
  | { type: "start-failed"; name: string; message: string }
  | { type: "stopped" }
  /** A listener's accept loop ended although nobody closed it: restart the Worker. */
  | { type: "listener-failed"; address: string; message: string }
  | { type: "log"; level: MessageLevel; message: string };
