/**
 * The typed messages between the main thread, the broker Worker and the
 * in-process actors' MessagePorts.
 *
 * @module
 */
import type { LogLevel, MessageLevel } from "../bus/log.ts";
import type { SocketPaths } from "../bus/paths.ts";

/** What the broker needs to start. */
export interface BrokerSettings {
  /** The bus's socket directory. */
  sockDir: string;
  /** Where the pub and pull sockets go. */
  paths: SocketPaths;
  /** File mode of the pub socket (0o600, or 0o660 with group access). */
  pubMode: number;
  /** Per-subscriber outbound buffer in bytes. */
  writeBufferLimit: number;
  /** Largest accepted frame in bytes. */
  maxFrameSize: number;
  /** Lowest level the broker reports. */
  logLevel: LogLevel;
}

/** Main thread → broker. */
export type BrokerCommand =
  | { type: "start"; settings: BrokerSettings }
  | { type: "attach"; role: "pub" | "pull"; port: MessagePort }
  | { type: "stop" }
  | { type: "crash" };

/** Broker → main thread. */
export type BrokerReport =
  | { type: "started" }
  | { type: "start-failed"; name: string; message: string }
  | { type: "stopped" }
  | { type: "log"; level: MessageLevel; message: string };
