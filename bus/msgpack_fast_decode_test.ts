import assert from "node:assert/strict";
import { Decoder } from "npm:@msgpack/msgpack@3.1.3";
import { fastUnpack, GIVE_UP_DECODE } from "./msgpack_fast_decode.ts";
import { packData, unpackData } from "./msgpack.ts";

// Whenever fastUnpack decodes, the bytes hold no ext and no 64-bit integer,
// so the extension codec and useBigInt64 of msgpack.ts's decoders play no
// part: the library's plain Decoder is the reference.
const reference = new Decoder();

/** Bytes from a hex dump such as `"81 a1 6b"`. */
function hex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16));
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

/**
 * `value` with every plain object as its entries, so that a deep comparison
 * also checks key order (assert.deepStrictEqual does not) and prototypes.
 */
function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  return {
    proto: Object.getPrototypeOf(value),
    entries: Object.entries(value).map(([k, v]) => [k, ordered(v)]),
  };
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function libraryDecode(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, value: reference.decode(bytes) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * fastUnpack never throws; when it decodes, the library decodes the same
 * bytes to the same value (same key order, same bin views); returns whether
 * it decoded.
 */
function checkAgainstLibrary(bytes: Uint8Array, label: string): boolean {
  let fast: unknown;
  try {
    fast = fastUnpack(bytes);
  } catch (err) {
    assert.fail(`${label}: fastUnpack threw ${err}`);
  }
  if (fast === GIVE_UP_DECODE) return false;
  const lib = libraryDecode(bytes);
  if (!lib.ok) assert.fail(`${label}: fastUnpack decoded what the library rejects: ${lib.error}`);
  assert.deepStrictEqual(fast, lib.value, label);
  assert.deepStrictEqual(ordered(fast), ordered(lib.value), `${label} (key order)`);
  return true;
}

const INTS = [
  0,
  1,
  31,
  32,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
];
const NEGATIVE_INTS = [
  -1,
  -31,
  -32,
  -33,
  -127,
  -128,
  -129,
  -32767,
  -32768,
  -32769,
  -(2 ** 31) + 1,
  -(2 ** 31),
];
const NON_ASCII = ["é", "日", "😀", "\0", "\n", " ", "\u{feff}", "\u2028"];

function randomString(rand: () => number, asciiOnly: boolean, hugeChance = 0.01): string {
  const len = [0, 1, 5, 16, 17, 31, 32, 64, 65, 199, 200, 201, 255, 256][Math.floor(rand() * 14)];
  // a random run of up to 24 characters, repeated to the length
  const run = Array.from(
    { length: Math.min(len, 24) },
    () =>
      asciiOnly || rand() < 0.9
        ? String.fromCharCode(0x20 + Math.floor(rand() * 95))
        : NON_ASCII[Math.floor(rand() * NON_ASCII.length)],
  );
  const s = Array.from({ length: len }, (_, i) => run[i % run.length]).join("");
  // now and then a str 32 (over 65,535 bytes)
  return rand() < hugeChance ? s.padEnd(70000, s || "x") : s;
}

/** A random plain value within 32-bit integers: what events carry. */
function randomValue(rand: () => number, asciiOnly: boolean, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0:
      return rand() < 0.5 ? null : undefined;
    case 1:
      return rand() < 0.5;
    case 2: {
      const ints = rand() < 0.5 ? INTS : NEGATIVE_INTS;
      return ints[Math.floor(rand() * ints.length)];
    }
    case 3:
      return [0.5, -0, NaN, Infinity, -Infinity, 1e300, 5e-324, (rand() - 0.5) * 1e9][
        Math.floor(rand() * 8)
      ];
    case 4:
    case 5:
      return randomString(rand, asciiOnly);
    case 6: {
      const bin = new Uint8Array([0, 10, 255, 256, 70000][Math.floor(rand() * 5)]);
      crypto.getRandomValues(bin.subarray(0, 65536));
      return bin;
    }
    case 7:
    case 8: {
      const o: Record<string, unknown> = {};
      const n = [0, 1, 3, 15, 16, 17][Math.floor(rand() * 6)];
      for (let i = 0; i < n; i++) {
        const key = rand() < 0.1 ? randomString(rand, asciiOnly) : `k${Math.floor(rand() * 20)}`;
        o[key === "__proto__" ? "proto" : key] = randomValue(rand, asciiOnly, depth + 1);
      }
      return o;
    }
    default:
      return Array.from(
        { length: [0, 1, 2, 15, 16, 17][Math.floor(rand() * 6)] },
        () => randomValue(rand, asciiOnly, depth + 1),
      );
  }
}

Deno.test("fastUnpack decodes random plain values exactly as @msgpack/msgpack, never giving up", () => {
  const rand = seeded(7);
  for (let i = 0; i < 1500; i++) {
    const value = randomValue(rand, i % 2 === 0);
    const bytes = packData(value);
    assert.ok(checkAgainstLibrary(bytes, `value ${i}`), `plain value ${i} given up`);
  }
});

Deno.test("fastUnpack decodes nesting up to 100 levels and gives up beyond", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = i % 2 ? [deep] : { k: deep };
  assert.ok(checkAgainstLibrary(packData(deep), "100 levels"));
  const deeper = Uint8Array.from([0x91, ...packData(deep)]); // the encoder stops at 100 too
  assert.equal(fastUnpack(deeper), GIVE_UP_DECODE);
  assert.deepStrictEqual(unpackData(deeper), [deep], "the general path has no depth limit");
});

/** Writes random msgpack, including forms no encoder picks. */
class RawWriter {
  out: number[] = [];
  /** false once something fastUnpack may give up on was written */
  plain = true;
  constructor(readonly rand: () => number) {}

  int(): number {
    return Math.floor(this.rand() * 0x100000000);
  }
  u(n: number, width: 1 | 2 | 4): void {
    for (let shift = (width - 1) * 8; shift >= 0; shift -= 8) this.out.push((n >>> shift) & 0xff);
  }
  raw(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.out.push(bytes[i]);
  }
  header(n: number, fix: number | null, fixMax: number, forms: [number, 1 | 2 | 4][]): void {
    const fits = forms.filter(([, w]) => n < 2 ** (8 * w));
    if (fix !== null && n <= fixMax && (fits.length === 0 || this.rand() < 0.6)) {
      this.out.push(fix | n);
      return;
    }
    const [type, width] = fits[Math.floor(this.rand() * fits.length)];
    this.out.push(type);
    this.u(n, width);
  }
  strBytes(): Uint8Array {
    const r = this.rand();
    if (r < 0.5) return new TextEncoder().encode(randomString(this.rand, r < 0.3, 0.001));
    // arbitrary bytes: invalid UTF-8, maybe a sequence cut by the end
    this.plain = false;
    const len = [1, 2, 3, 7, 16, 200, 201, 300][Math.floor(this.rand() * 8)];
    return Uint8Array.from(
      { length: len },
      () =>
        this.rand() < 0.5 ? 0x61 : [0xc3, 0xe6, 0xf0, 0xf8, 0x80, 0xbf, 0xff, 0xef, 0xbb][
          Math.floor(this.rand() * 9)
        ],
    );
  }
  str(bytes: Uint8Array = this.strBytes()): void {
    this.header(bytes.length, 0xa0, 31, [[0xd9, 1], [0xda, 2], [0xdb, 4]]);
    this.raw(bytes);
  }
  key(depth: number): void {
    const r = this.rand();
    if (r < 0.55) {
      const pool = ["a", "b", "id", "fun", "0", "1", "10", "constructor", "toString", "k\u00e9"];
      this.str(new TextEncoder().encode(pool[Math.floor(this.rand() * pool.length)]));
    } else if (r < 0.75) this.str();
    else if (r < 0.9) this.scalarNumber();
    else if (r < 0.93) {
      this.plain = false;
      this.str(new TextEncoder().encode("__proto__"));
    } else {
      this.plain = false; // nil, bool, bin or container keys: the library throws
      if (this.rand() < 0.3) {
        this.raw([[0x80], [0x90], [0x91, 0x01], [0xc4, 0x00]][Math.floor(this.rand() * 4)]);
      } else this.value(Math.max(depth, 7));
    }
  }
  scalarNumber(): void {
    const r = Math.floor(this.rand() * 10);
    switch (r) {
      case 0:
        return this.raw([Math.floor(this.rand() * 0x80)]);
      case 1:
        return this.raw([0xe0 | Math.floor(this.rand() * 0x20)]);
      case 2:
      case 3:
      case 4: {
        const [type, width] =
          ([[0xcc, 1], [0xcd, 2], [0xce, 4], [0xd0, 1], [0xd1, 2], [0xd2, 4]] as [
            number,
            1 | 2 | 4,
          ][])[Math.floor(this.rand() * 6)];
        this.out.push(type);
        const edges = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000];
        const n = this.rand() < 0.5 ? edges[Math.floor(this.rand() * edges.length)] : this.int();
        return this.u(n, width);
      }
      case 5:
      case 6: // float32 bytes written by hand: NaNs, -0, denormals, anything
        this.out.push(0xca);
        return this.u(
          this.rand() < 0.5
            ? [0x7fc00000, 0x7f800001, 0xff800000, 0x80000000, 0x00000001, 0x3fc00000][
              Math.floor(this.rand() * 6)
            ]
            : this.int(),
          4,
        );
      case 7:
      case 8:
        this.out.push(0xcb);
        this.u(this.int(), 4);
        return this.u(this.int(), 4);
      default: // 64-bit integers stay with msgpack.ts's bigint rules
        this.plain = false;
        this.out.push(this.rand() < 0.5 ? 0xcf : 0xd3);
        this.u(this.int(), 4);
        return this.u(this.int(), 4);
    }
  }
  value(depth: number): void {
    const r = Math.floor(this.rand() * (depth > 4 ? 8 : 12));
    switch (r) {
      case 0:
        return this.raw([[0xc0, 0xc2, 0xc3][Math.floor(this.rand() * 3)]]);
      case 1:
      case 2:
        return this.scalarNumber();
      case 3:
      case 4:
        return this.str();
      case 5: {
        const n = [0, 1, 5, 300][Math.floor(this.rand() * 4)];
        this.header(n, null, 0, [[0xc4, 1], [0xc5, 2], [0xc6, 4]]);
        return this.raw(crypto.getRandomValues(new Uint8Array(n)));
      }
      case 6: {
        if (this.rand() < 0.7) return this.scalarNumber();
        this.plain = false;
        const e = Math.floor(this.rand() * 4);
        if (e === 0) return this.raw([0xc1]);
        if (e === 1) return this.raw(packData(new Date(this.int() * 1000)));
        if (e === 2) return this.raw([0xd6, 0xff, 0, 0, 0, 1]); // timestamp 32
        return this.raw([0xc7, 2, 5, 1, 2]); // ext 8, type 5
      }
      case 7:
        return this.raw([0xe0 | Math.floor(this.rand() * 0x20)]);
      case 8:
      case 9: {
        const n = [0, 1, 2, 15, 16, 17][Math.floor(this.rand() * 6)];
        this.header(n, 0x90, 15, [[0xdc, 2], [0xdd, 4]]);
        for (let i = 0; i < n; i++) this.value(depth + 1);
        return;
      }
      default: {
        const n = [0, 1, 2, 3, 15, 16, 17][Math.floor(this.rand() * 7)];
        this.header(n, 0x80, 15, [[0xde, 2], [0xdf, 4]]);
        for (let i = 0; i < n; i++) {
          this.key(depth + 1);
          this.value(depth + 1);
        }
      }
    }
  }
}

function randomRaw(rand: () => number, depth = 0): { bytes: Uint8Array; plain: boolean } {
  const w = new RawWriter(rand);
  w.value(depth);
  return { bytes: Uint8Array.from(w.out), plain: w.plain };
}

Deno.test("fastUnpack agrees with @msgpack/msgpack on random raw msgpack (all forms, odd keys)", () => {
  const rand = seeded(2024);
  let decoded = 0;
  for (let i = 0; i < 3000; i++) {
    const { bytes, plain } = randomRaw(rand);
    const ok = checkAgainstLibrary(bytes, `raw ${i}`);
    if (plain) assert.ok(ok, `plain raw value ${i} given up`);
    if (ok) decoded++;
  }
  assert.ok(decoded > 1000, `only ${decoded} of 3000 decoded fast`);
});

Deno.test("fastUnpack on mutated encodings: agrees with the library or gives up, never throws", () => {
  const rand = seeded(99);
  const special = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xca];
  special.push(0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff);
  let decoded = 0;
  for (let i = 0; i < 12000; i++) {
    const base = i % 2 ? randomRaw(rand, 3).bytes : packData(randomValue(rand, i % 4 === 0, 2));
    if (base.length > 5000) continue;
    let bytes = Array.from(base);
    for (let m = 1 + Math.floor(rand() * 3); m > 0; m--) {
      const at = Math.floor(rand() * (bytes.length + 1));
      switch (Math.floor(rand() * 6)) {
        case 0:
          bytes[at] = Math.floor(rand() * 256);
          break;
        case 1:
          bytes[at] = special[Math.floor(rand() * special.length)];
          break;
        case 2:
          bytes = bytes.slice(0, at);
          break;
        case 3:
          bytes.push(Math.floor(rand() * 256));
          break;
        case 4:
          bytes.splice(at, 0, special[Math.floor(rand() * special.length)]);
          break;
        default:
          bytes.splice(at, 1);
      }
    }
    const mutated = Uint8Array.from(bytes.filter((b) => b !== undefined));
    if (checkAgainstLibrary(mutated, `mutation ${i}`)) decoded++;
  }
  assert.ok(decoded > 1500, `only ${decoded} of 12000 mutations decoded fast`);
});

Deno.test("fastUnpack gives up on ext, 64-bit integers, truncation, trailing bytes and 0xc1", () => {
  const date = new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789));
  const cases: [string, Uint8Array][] = [
    ["ext 78 datetime", packData(date)],
    ["nested datetime", packData({ when: [date] })],
    ["uint64", packData(2 ** 40)],
    ["int64 bigint", packData(-(2n ** 63n))],
    ["timestamp ext", hex("d6 ff 00 00 00 01")],
    ["truncated", packData({ a: "xyz" }).subarray(0, 6)],
    ["truncated header", hex("cd 01")],
    ["empty input", new Uint8Array(0)],
    ["trailing byte", hex("81 a1 61 01 00")],
    ["0xc1", hex("91 c1")],
    ["__proto__ key", hex("81 a9 5f 5f 70 72 6f 74 6f 5f 5f 01")],
    ["nil key", hex("81 c0 01")],
    ["array key", hex("81 91 01 01")],
    ["key cut inside a UTF-8 sequence", hex("81 a1 c3 01")],
    ["value cut inside a UTF-8 sequence", hex("92 a2 61 e6 01")],
    ["array longer than the input", hex("dd ff ff ff ff 01")],
  ];
  for (const [label, bytes] of cases) {
    assert.equal(fastUnpack(bytes), GIVE_UP_DECODE, label);
  }
  // the general path still applies Salt's rules
  assert.ok(unpackData(cases[0][1]) instanceof Date);
  assert.equal((unpackData(cases[0][1]) as Date).getTime(), date.getTime());
  assert.deepStrictEqual(unpackData(cases[1][1]), { when: [date] });
  assert.equal(unpackData(cases[2][1]), 2 ** 40);
  assert.equal(unpackData(cases[3][1]), -(2n ** 63n));
  assert.equal(unpackData(hex("cf 00 20 00 00 00 00 00 01")), 9007199254740993n);
  for (const label of ["truncated", "empty input", "trailing byte", "0xc1", "__proto__ key"]) {
    const bytes = cases.find(([l]) => l === label)![1];
    assert.throws(() => unpackData(bytes), label);
  }
});

Deno.test("fastUnpack matches the library on number keys, duplicate keys, bin views and BOMs", () => {
  const check = (bytes: Uint8Array, expected: unknown) => {
    assert.ok(checkAgainstLibrary(bytes, Array.from(bytes).join(" ")));
    assert.deepStrictEqual(fastUnpack(bytes), expected);
    assert.deepStrictEqual(unpackData(bytes), expected);
  };
  check(hex("83 01 a1 78 cb 3f f8 00 00 00 00 00 00 a1 79 ff 02"), { 1: "x", "1.5": "y", "-1": 2 });
  check(hex("82 a1 61 01 a1 61 02"), { a: 2 });
  check(hex("82 0a 01 a1 62 02"), { b: 2, 10: 1 });
  check(hex("ca 3f c0 00 00"), 1.5);
  check(hex("ca 80 00 00 00"), -0);
  check(hex("ca 7f c0 00 00"), NaN);
  check(hex("cd 00 05"), 5);
  check(hex("d2 ff ff ff ff"), -1);
  check(hex("d9 03 61 62 63"), "abc");
  const bin = hex("92 c4 02 0a 0b c4 00");
  const [a, b] = fastUnpack(bin) as Uint8Array[];
  assert.equal(a.buffer, bin.buffer, "bin is a view of the input, as the library returns");
  assert.equal(a.byteOffset, 3);
  assert.equal(b.byteOffset, 7);
  const bom = "\u{feff}" + "x".repeat(250);
  check(packData(bom), bom.slice(1)); // above 200 bytes: TextDecoder drops the BOM, as the library
  check(packData("\u{feff}x"), "\u{feff}x"); // below: kept, as the library's utf8DecodeJs
});
