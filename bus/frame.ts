/**
 * Salt's socket framing (§2.4): each message is the msgpack map
 * `{"head": {}, "body": <bin>}`, concatenated with no length prefix. This
 * module writes frames and finds them in a byte stream without decoding the
 * body, so the broker can route on the frame and the tag alone.
 *
 * @module
 */
import { FrameError } from "./errors.ts";

/** Bytes every canonical frame starts with: `82 a4 "head" 80 a4 "body"`. */
const CANONICAL_PREFIX = Uint8Array.of(
  0x82,
  0xa4,
  0x68,
  0x65,
  0x61,
  0x64,
  0x80,
  0xa4,
  0x62,
  0x6f,
  0x64,
  0x79,
);
const PREFIX_LENGTH = CANONICAL_PREFIX.length;

/** Default largest frame accepted on a socket: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * Length of the frame header written before a body of `bodyLength` bytes.
 *
 * @example
 * ```ts
 * import { frameHeaderLength } from "./frame.ts";
 * frameHeaderLength(15); // 14: 12 bytes of prefix, c4 and the length
 * ```
 */
export function frameHeaderLength(bodyLength: number): number {
  return PREFIX_LENGTH + (bodyLength < 0x100 ? 2 : bodyLength < 0x10000 ? 3 : 5);
}

/**
 * Writes a frame header for a body of `bodyLength` bytes into `target` at
 * `offset` and returns the offset where the body goes.
 *
 * @example
 * ```ts
 * import { frameHeaderLength, writeFrameHeader } from "./frame.ts";
 * const frame = new Uint8Array(frameHeaderLength(3) + 3);
 * const at = writeFrameHeader(frame, 0, 3);
 * frame.set([1, 2, 3], at);
 * ```
 */
export function writeFrameHeader(target: Uint8Array, offset: number, bodyLength: number): number {
  target.set(CANONICAL_PREFIX, offset);
  let at = offset + PREFIX_LENGTH;
  if (bodyLength < 0x100) {
    target[at++] = 0xc4;
    target[at++] = bodyLength;
  } else if (bodyLength < 0x10000) {
    target[at++] = 0xc5;
    target[at++] = bodyLength >>> 8;
    target[at++] = bodyLength & 0xff;
  } else {
    target[at++] = 0xc6;
    target[at++] = bodyLength >>> 24;
    target[at++] = (bodyLength >>> 16) & 0xff;
    target[at++] = (bodyLength >>> 8) & 0xff;
    target[at++] = bodyLength & 0xff;
  }
  return at;
}

/**
 * Wraps a packed event (`tag \n\n msgpack(data)`) in a Salt frame.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * const body = new TextEncoder().encode("salt/auth\n\n\x81\xa1a\x01");
 * encodeFrame(body).length; // 29, as in §2.6
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(frameHeaderLength(body.length) + body.length);
  frame.set(body, writeFrameHeader(frame, 0, body.length));
  return frame;
}

/** Where one complete frame lies in a buffer, as reported by {@linkcode FrameScanner}. */
export interface FrameSink {
  /**
   * Called once per complete frame, in stream order. `buffer` stays valid
   * after the call (the scanner never reuses it).
   *
   * @param buffer the bytes holding the frame
   * @param start offset of the frame's first byte
   * @param end offset just past the frame
   * @param bodyStart offset of the packed event (`tag \n\n data`)
   * @param tagEnd offset of the `\n\n` that ends the tag
   * @param bodyEnd offset just past the packed event
   * @param canonical true when the frame is byte-identical to
   *   `encodeFrame(body)` and so can be forwarded as it is
   */
  frame(
    buffer: Uint8Array,
    start: number,
    end: number,
    bodyStart: number,
    tagEnd: number,
    bodyEnd: number,
    canonical: boolean,
  ): void;
}

/** Options of {@linkcode FrameScanner}. */
export interface FrameScannerOptions {
  /** Largest frame accepted, in bytes; larger ones throw {@linkcode FrameError}. Default 16 MiB. */
  maxFrameSize?: number;
}

const INCOMPLETE = -1;

/** Bytes copied at a time into the buffer of an incomplete non-canonical frame. */
const COPY_STEP = 4096;

/** A canonical frame up to this size gets its whole buffer at once; larger ones grow to it. */
const EXACT_ALLOCATION = 1 << 20;

/** Smallest buffer for an incomplete non-canonical frame. */
const MIN_PARTIAL = 256;

/**
 * Where the scan of a non-canonical frame stands, so that it resumes where it
 * stopped when more bytes arrive. Offsets are relative to the frame's start.
 */
class GenericScan {
  /** Next byte to read. May lie past the bytes held (a value being skipped by length). */
  pos = 0;
  /** Map entries not read yet; -1 before the map header. */
  keysLeft = -1;
  /** The next value is the body's (its key was `body`). */
  bodyNext = false;
  /** Values still to skip inside the current non-body entry (nested ones included). */
  skip = 0;
  /** Where the body's bytes are, once its header was read. */
  bodyStart = -1;
  bodyEnd = -1;
}

/**
 * Finds Salt frames in a byte stream cut at arbitrary points: one chunk may
 * hold several frames or part of one. Bodies are not decoded; the scanner
 * checks the framing, the size limit and that the body holds a tag end
 * (`\n\n`).
 *
 * Complete frames are reported as views into the chunk they arrived in. The
 * bytes of a frame cut by a chunk boundary are copied into a buffer of its
 * own (exactly its size for a canonical frame), and its scan resumes where it
 * stopped: an incomplete frame is never scanned again from its start, so the
 * work per byte is the same however the frame is cut and however it is
 * framed (see {@linkcode FrameScanner.scannedBytes}).
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameScanner } from "./frame.ts";
 * const scanner = new FrameScanner();
 * const frame = encodeFrame(new TextEncoder().encode("a/b\n\n\x80"));
 * let count = 0;
 * const sink = { frame: () => void count++ };
 * scanner.push(frame.subarray(0, 5), sink);
 * scanner.push(frame.subarray(5), sink);
 * console.log(count); // 1
 * ```
 */
export class FrameScanner {
  readonly #maxFrameSize: number;
  /** The incomplete frame's bytes so far (its first `#have` bytes); null when none. */
  #partial: Uint8Array | null = null;
  #have = 0;
  /** Bytes the incomplete frame must hold before its scan can go on. */
  #need = 0;
  /** `#need` is exact (canonical frames): copy just that much, never more. */
  #exact = false;
  /** The resumable scan of an incomplete non-canonical frame. */
  #generic: GenericScan | null = null;
  #scanned = 0;
  #copied = 0;

  /** Creates a scanner. */
  constructor(options: FrameScannerOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes held from a frame that has not completed yet. */
  get bufferedBytes(): number {
    return this.#have;
  }

  /**
   * Memory held for the incomplete frame: the size of its buffer (at most
   * twice {@linkcode bufferedBytes}, and never more than the frame).
   */
  get memoryBytes(): number {
    return this.#partial === null ? 0 : this.#partial.length;
  }

  /**
   * Bytes the scanner has gone over, counting again any byte it looked at
   * twice. It stays close to the bytes pushed whatever the framing and
   * however the frames are cut (the header of a frame cut by a chunk boundary
   * is read again, at most 17 bytes each time).
   */
  get scannedBytes(): number {
    return this.#scanned;
  }

  /** Bytes copied out of chunks into the buffers of frames cut by a chunk boundary. */
  get copiedBytes(): number {
    return this.#copied;
  }

  /**
   * Feeds a chunk. Reports every frame it completes to `sink`. The chunk
   * must not be modified afterwards (frames are reported as views into it).
   *
   * @throws {FrameError} for bytes that are not a valid frame or a frame over
   * the size limit; the stream cannot be resumed after that.
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    if (chunk.length === 0) return;
    let pos = 0;
    if (this.#partial !== null) {
      pos = this.#continue(chunk, sink);
      if (pos < 0) return;
    }
    while (pos < chunk.length) {
      const end = this.#scanFrame(chunk, pos, chunk.length, sink);
      if (end === INCOMPLETE) {
        this.#hold(chunk, pos);
        return;
      }
      pos = end;
    }
  }

  /** Drops the incomplete frame, if any (the connection is closing). */
  discard(): void {
    this.#partial = null;
    this.#have = 0;
    this.#need = 0;
    this.#generic = null;
  }

  /** Copies what is left of `chunk` from `pos` into the incomplete frame's own buffer. */
  #hold(chunk: Uint8Array, pos: number): void {
    const rest = chunk.length - pos;
    let capacity: number;
    if (this.#exact) {
      capacity = this.#need <= EXACT_ALLOCATION
        ? this.#need
        : Math.min(this.#need, Math.max(2 * rest, EXACT_ALLOCATION));
    } else {
      capacity = Math.min(Math.max(2 * rest, MIN_PARTIAL), this.#maxFrameSize + COPY_STEP);
    }
    const partial = new Uint8Array(Math.max(capacity, rest));
    partial.set(chunk.subarray(pos));
    this.#partial = partial;
    this.#have = rest;
    this.#copied += rest;
  }

  /**
   * Feeds `chunk` to the incomplete frame. Returns where in `chunk` the bytes
   * after that frame start, or -1 when the chunk was used up first.
   */
  #continue(chunk: Uint8Array, sink: FrameSink): number {
    let off = 0;
    while (true) {
      const want = this.#need - this.#have;
      const take = Math.min(this.#exact ? want : Math.max(want, COPY_STEP), chunk.length - off);
      this.#append(chunk, off, take);
      off += take;
      if (this.#have < this.#need) return -1;
      const partial = this.#partial!;
      const have = this.#have;
      const end = this.#generic !== null
        ? this.#scanGeneric(partial, 0, have, this.#generic, sink)
        : this.#scanFrame(partial, 0, have, sink);
      if (end === INCOMPLETE) {
        if (off === chunk.length) return -1;
        continue;
      }
      // Complete: the sink keeps `partial`; bytes copied past the frame's end
      // are scanned again in place from `chunk`.
      this.#partial = null;
      this.#have = 0;
      this.#need = 0;
      this.#generic = null;
      return off - (have - end);
    }
  }

  /** Appends `take` bytes of `chunk` at `off` to the incomplete frame, growing its buffer. */
  #append(chunk: Uint8Array, off: number, take: number): void {
    let partial = this.#partial!;
    const size = this.#have + take;
    if (size > partial.length) {
      let capacity: number;
      if (this.#exact) {
        capacity = this.#need <= EXACT_ALLOCATION
          ? this.#need
          : Math.min(this.#need, Math.max(2 * partial.length, size));
      } else {
        capacity = Math.min(
          Math.max(2 * partial.length, size),
          Math.max(this.#maxFrameSize + COPY_STEP, size),
        );
      }
      const grown = new Uint8Array(Math.max(capacity, size));
      grown.set(partial.subarray(0, this.#have));
      this.#copied += this.#have;
      partial = grown;
      this.#partial = grown;
    }
    partial.set(take === chunk.length ? chunk : chunk.subarray(off, off + take), this.#have);
    this.#have = size;
    this.#copied += take;
  }

  /** Scans the frame that starts at `pos`; returns its end or INCOMPLETE (setting #need). */
  #scanFrame(buf: Uint8Array, pos: number, limit: number, sink: FrameSink): number {
    const available = limit - pos;
    if (available > PREFIX_LENGTH && isCanonicalPrefix(buf, pos)) {
      const marker = buf[pos + PREFIX_LENGTH];
      let bodyStart: number;
      let bodyLength: number;
      if (marker === 0xc4) {
        if (available < PREFIX_LENGTH + 2) {
          return this.#incomplete(PREFIX_LENGTH + 2, true, Math.min(available, 17));
        }
        bodyLength = buf[pos + PREFIX_LENGTH + 1];
        bodyStart = pos + PREFIX_LENGTH + 2;
      } else if (marker === 0xc5) {
        if (available < PREFIX_LENGTH + 3) {
          return this.#incomplete(PREFIX_LENGTH + 3, true, Math.min(available, 17));
        }
        bodyLength = (buf[pos + PREFIX_LENGTH + 1] << 8) | buf[pos + PREFIX_LENGTH + 2];
        bodyStart = pos + PREFIX_LENGTH + 3;
      } else if (marker === 0xc6) {
        if (available < PREFIX_LENGTH + 5) {
          return this.#incomplete(PREFIX_LENGTH + 5, true, Math.min(available, 17));
        }
        bodyLength = readU32(buf, pos + PREFIX_LENGTH + 1);
        bodyStart = pos + PREFIX_LENGTH + 5;
      } else {
        return this.#scanGeneric(buf, pos, limit, new GenericScan(), sink);
      }
      const end = bodyStart + bodyLength;
      this.#checkSize(end - pos);
      if (end > limit) return this.#incomplete(end - pos, true, Math.min(available, 17));
      // Canonical means the shortest length encoding was used, as encodeFrame does.
      const canonical = bodyStart - pos === frameHeaderLength(bodyLength);
      this.#scanned += end - pos;
      sink.frame(buf, pos, end, bodyStart, findTagEnd(buf, bodyStart, end), end, canonical);
      return end;
    }
    // The start of what may be a canonical frame: wait for the byte after the prefix.
    if (available <= PREFIX_LENGTH && isCanonicalStart(buf, pos, limit)) {
      return this.#incomplete(PREFIX_LENGTH + 1, true, available);
    }
    return this.#scanGeneric(buf, pos, limit, new GenericScan(), sink);
  }

  /**
   * Scans (or goes on scanning) any valid frame: a msgpack map with a
   * str/bin `body` and any other keys. `st` says where the scan of the frame
   * starting at `base` stands; returns the frame's end or INCOMPLETE, keeping
   * `st` to resume from.
   */
  #scanGeneric(
    buf: Uint8Array,
    base: number,
    limit: number,
    st: GenericScan,
    sink: FrameSink,
  ): number {
    const available = limit - base;
    const from = Math.min(st.pos, available);
    const stop = (need: number): number => {
      this.#scanned += Math.min(st.pos, available) - from;
      this.#checkSize(need);
      this.#generic = st;
      this.#need = need;
      this.#exact = false;
      return INCOMPLETE;
    };
    if (st.keysLeft < 0) {
      if (available < 1) return stop(1);
      const b = buf[base];
      if (b >= 0x80 && b <= 0x8f) {
        st.keysLeft = b & 0x0f;
        st.pos = 1;
      } else if (b === 0xde || b === 0xdf) {
        const size = b === 0xde ? 2 : 4;
        if (available < 1 + size) return stop(1 + size);
        st.keysLeft = size === 2 ? (buf[base + 1] << 8) | buf[base + 2] : readU32(buf, base + 1);
        st.pos = 1 + size;
      } else {
        throw new FrameError(
          `frame is not a msgpack map (first byte 0x${b.toString(16).padStart(2, "0")})`,
        );
      }
    }
    while (true) {
      if (st.skip > 0) {
        const need = this.#skipValues(buf, base, limit, st);
        if (need > 0) return stop(need);
        continue;
      }
      if (st.bodyNext) {
        const body = readLength(buf, base + st.pos, limit);
        if (body === INCOMPLETE_HEADER) return stop(st.pos + headerNeed(buf, base + st.pos, limit));
        if (body === WRONG_TYPE) throw new FrameError("frame body is not bytes");
        st.bodyStart = body.next - base;
        st.bodyEnd = st.bodyStart + body.length;
        this.#checkSize(st.bodyEnd);
        st.pos = st.bodyEnd;
        st.bodyNext = false;
        continue;
      }
      if (st.keysLeft === 0) break;
      if (st.pos >= available) return stop(st.pos + 1);
      const key = readLength(buf, base + st.pos, limit);
      if (key === INCOMPLETE_HEADER) return stop(st.pos + headerNeed(buf, base + st.pos, limit));
      if (key === WRONG_TYPE) throw new FrameError("frame has a map key that is not a string");
      const keyEnd = key.next + key.length - base;
      this.#checkSize(keyEnd);
      if (key.length === 4) {
        if (keyEnd > available) return stop(keyEnd);
        const k = key.next;
        st.bodyNext = buf[k] === 0x62 && buf[k + 1] === 0x6f && buf[k + 2] === 0x64 &&
          buf[k + 3] === 0x79;
      }
      st.pos = keyEnd;
      st.keysLeft--;
      if (!st.bodyNext) st.skip = 1;
    }
    if (st.pos > available) return stop(st.pos);
    this.#scanned += st.pos - from;
    if (st.bodyStart < 0) throw new FrameError("frame has no body");
    this.#generic = null;
    const end = base + st.pos;
    const bodyStart = base + st.bodyStart;
    const bodyEnd = base + st.bodyEnd;
    sink.frame(buf, base, end, bodyStart, findTagEnd(buf, bodyStart, bodyEnd), bodyEnd, false);
    return end;
  }

  /**
   * Skips `st.skip` msgpack values (containers add their elements). Returns
   * 0 when done, else the bytes (from the frame start) needed to go on.
   */
  #skipValues(buf: Uint8Array, base: number, limit: number, st: GenericScan): number {
    const available = limit - base;
    while (st.skip > 0) {
      const rel = st.pos;
      if (rel >= available) return rel + 1;
      const at = base + rel;
      const b = buf[at];
      let size: number;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
        size = 1;
      } else if (b === 0xc1) {
        throw new FrameError("frame holds the never-used msgpack byte 0xc1");
      } else if (b <= 0x8f) {
        st.skip += 2 * (b & 0x0f);
        size = 1;
      } else if (b <= 0x9f) {
        st.skip += b & 0x0f;
        size = 1;
      } else if (b <= 0xbf) {
        size = 1 + (b & 0x1f);
      } else if (FIXED_SIZES[b] !== undefined) {
        size = FIXED_SIZES[b];
      } else {
        // c4-c6 bin, c7-c9 ext, d9-db str, dc-dd array, de-df map: a length field follows.
        const lengthSize = b === 0xc4 || b === 0xc7 || b === 0xd9
          ? 1
          : b === 0xc5 || b === 0xc8 || b === 0xda || b === 0xdc || b === 0xde
          ? 2
          : 4;
        if (rel + 1 + lengthSize > available) return rel + 1 + lengthSize;
        const n = lengthSize === 1
          ? buf[at + 1]
          : lengthSize === 2
          ? (buf[at + 1] << 8) | buf[at + 2]
          : readU32(buf, at + 1);
        size = 1 + lengthSize;
        if (b >= 0xdc && b <= 0xdd) st.skip += n;
        else if (b >= 0xde) st.skip += 2 * n;
        else size += b >= 0xc7 && b <= 0xc9 ? 1 + n : n; // ext has a type byte
      }
      st.skip--;
      st.pos = rel + size;
      this.#checkSize(st.pos);
    }
    return 0;
  }

  #checkSize(size: number): void {
    if (size > this.#maxFrameSize) {
      throw new FrameError(
        `frame of ${size}+ bytes exceeds max_frame_size (${this.#maxFrameSize} bytes)`,
      );
    }
  }

  /** The frame is incomplete: it needs `need` bytes; `scanned` bytes were looked at. */
  #incomplete(need: number, exact: boolean, scanned: number): number {
    this.#need = need;
    this.#exact = exact;
    this.#generic = null;
    this.#scanned += scanned;
    return INCOMPLETE;
  }
}

function isCanonicalPrefix(buf: Uint8Array, pos: number): boolean {
  for (let i = 0; i < PREFIX_LENGTH; i++) {
    if (buf[pos + i] !== CANONICAL_PREFIX[i]) return false;
  }
  return true;
}

/** True when the bytes from `pos` to `limit` (fewer than a header) begin a canonical frame. */
function isCanonicalStart(buf: Uint8Array, pos: number, limit: number): boolean {
  const n = Math.min(limit - pos, PREFIX_LENGTH);
  for (let i = 0; i < n; i++) {
    if (buf[pos + i] !== CANONICAL_PREFIX[i]) return false;
  }
  return true;
}

/** Offset of the `\n\n` ending the tag, or throws: a body without one is not an event. */
function findTagEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end - 1; i++) {
    if (buf[i] === 0x0a && buf[i + 1] === 0x0a) return i;
  }
  throw new FrameError("event body has no tag end (\\n\\n)");
}

function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) >>> 0) + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
}

const INCOMPLETE_HEADER = 0;
const WRONG_TYPE = 1;

/** Reads a str/bin header at `pos`, with the bytes before `limit`. */
function readLength(
  buf: Uint8Array,
  pos: number,
  limit: number,
): { length: number; next: number } | typeof INCOMPLETE_HEADER | typeof WRONG_TYPE {
  if (pos >= limit) return INCOMPLETE_HEADER;
  const b = buf[pos];
  let size: number;
  if (b >= 0xa0 && b <= 0xbf) return { length: b & 0x1f, next: pos + 1 };
  if (b === 0xc4 || b === 0xd9) size = 1;
  else if (b === 0xc5 || b === 0xda) size = 2;
  else if (b === 0xc6 || b === 0xdb) size = 4;
  else return WRONG_TYPE;
  if (pos + 1 + size > limit) return INCOMPLETE_HEADER;
  const length = size === 1
    ? buf[pos + 1]
    : size === 2
    ? (buf[pos + 1] << 8) | buf[pos + 2]
    : readU32(buf, pos + 1);
  return { length, next: pos + 1 + size };
}

/** Bytes a str/bin header at `pos` needs, when fewer are there (see readLength). */
function headerNeed(buf: Uint8Array, pos: number, limit: number): number {
  if (pos >= limit) return 1;
  const b = buf[pos];
  return b === 0xc4 || b === 0xd9 ? 2 : b === 0xc5 || b === 0xda ? 3 : 5;
}

/** Total size of the fixed-size msgpack values, by type byte (floats, ints, fixext). */
const FIXED_SIZES: Readonly<Record<number, number>> = {
  0xca: 5,
  0xcb: 9,
  0xcc: 2,
  0xcd: 3,
  0xce: 5,
  0xcf: 9,
  0xd0: 2,
  0xd1: 3,
  0xd2: 5,
  0xd3: 9,
  0xd4: 3,
  0xd5: 4,
  0xd6: 6,
  0xd7: 10,
  0xd8: 18,
};
