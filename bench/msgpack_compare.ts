/**
 * msgpack libraries on Salt's job-return shapes under Deno (`deno run -A
 * bench/msgpack_compare.ts`): `@msgpack/msgpack` (what saltbus's codec uses)
 * beside `msgpackr`, encode and decode of the same value, with the same
 * bytes checked. A standalone script for issue "the library as fast as the
 * broker"; it prints one JSON line.
 *
 * @module
 */
import { decode, encode } from "npm:@msgpack/msgpack@3.1.3";
import { Packr, Unpackr } from "npm:msgpackr@2.1.4";

const value = {
  cmd: "_return",
  id: "web1.example.com",
  jid: "20261202011923401023",
  fun: "test.ping",
  fun_args: [],
  return: true,
  retcode: 0,
  success: true,
  _stamp: "2026-12-02T01:19:23.464914",
};
const N = 300_000;
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function time(fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn();
  return N / ((performance.now() - t0) / 1000);
}

const a = encode(value);
const b = packr.pack(value);
const same = a.length === b.length && a.every((x, i) => x === b[i]);
const out = {
  count: N,
  sameBytes: same,
  msgpack_msgpack: { encode: time(() => encode(value)), decode: time(() => decode(a)) },
  msgpackr: { encode: time(() => packr.pack(value)), decode: time(() => unpackr.unpack(b)) },
};
console.log(JSON.stringify(out));
