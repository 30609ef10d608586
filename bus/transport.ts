/**
 * The transport interface between the protocol logic (client, router) and
 * I/O. Adapters implement it on Unix sockets and on MessagePorts.
 *
 * @module
 */

/** A bidirectional byte stream: one event-socket connection. */
export interface ByteChannel {
  /**
   * Reads the next chunk the peer sent; `null` at end of stream. At most one
   * read is outstanding at a time. The returned bytes belong to the caller.
   */
  read(): Promise<Uint8Array | null>;
  /** Writes all of `bytes`; rejects when the peer is gone. One write at a time. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the channel; a pending read resolves `null` (idempotent). */
  close(): void;
  /** A pending read keeps the process alive again (the default); sockets only. */
  ref?(): void;
  /** A pending read no longer keeps the process alive (an idle client in a script). */
  unref?(): void;
  /**
   * The minion id the transport itself authenticated on the other end (a
   * NATS session on that minion's subjects); absent for local sockets.
   */
  readonly authenticatedId?: string;
}

/** Opens connections to one bus: its pub side (to listen) and pull side (to fire). */
export interface Connector {
  /** Connects to the bus's pub side; rejects when nothing listens there. */
  connectPub(): Promise<ByteChannel>;
  /** Connects to the bus's pull side; rejects when nothing listens there. */
  connectPull(): Promise<ByteChannel>;
  /** Where this connector points, for messages (e.g. the socket path). */
  describe(): string;
}
