import assert from "node:assert/strict";
import {
  compileTarget,
  matchTarget,
  TARGET_TYPES,
  type TargetCandidate,
  TargetError,
} from "./target.ts";

const web1: TargetCandidate = {
  id: "web1",
  grains: {
    os: "Debian",
    osrelease: "12",
    roles: ["web", "cache"],
    virtual: true,
    num_cpus: 4,
    ip_interfaces: { eth0: ["10.0.0.5", "fe80::1"], lo: ["127.0.0.1"] },
    disks: [{ name: "sda", size: 100 }, { name: "sdb", size: 200 }],
    empty: {},
  },
  pillar: { env: "prod", app: { tier: "front" } },
};
const web2: TargetCandidate = { id: "web2", grains: { os: "Debian", roles: "web" } };
const db1: TargetCandidate = { id: "db1", grains: { os: "CentOS", roles: ["db"] } };
const noGrains: TargetCandidate = { id: "lonely" };
const all = [web1, web2, db1, noGrains];

function ids(tgt: string | string[], type: Parameters<typeof compileTarget>[1]): string[] {
  const match = compileTarget(tgt, type);
  return all.filter(match).map((c) => c.id);
}

Deno.test("TARGET_TYPES lists the five types, glob first", () => {
  assert.deepEqual([...TARGET_TYPES], ["glob", "list", "pcre", "grain", "compound"]);
});

Deno.test("glob is Python fnmatch on the whole id, the default type", () => {
  assert.deepEqual(ids("web*", undefined), ["web1", "web2"]);
  assert.deepEqual(ids("*", "glob"), ["web1", "web2", "db1", "lonely"]);
  assert.deepEqual(ids("web[!1]", "glob"), ["web2"]);
  assert.deepEqual(ids("?b?", "glob"), ["db1"]);
  assert.deepEqual(ids("WEB*", "glob"), []);
  assert.deepEqual(ids("web", "glob"), []);
});

Deno.test("list takes a comma-separated string or an array of exact ids", () => {
  assert.deepEqual(ids("web1,db1", "list"), ["web1", "db1"]);
  assert.deepEqual(ids(["web2", "nope"], "list"), ["web2"]);
  assert.deepEqual(ids("web1, web2", "list"), ["web1", "web2"]);
  assert.deepEqual(ids("web*", "list"), []);
  assert.deepEqual(ids("web1", "list"), ["web1"]);
});

Deno.test("pcre is re.match: anchored at the start, not at the end", () => {
  assert.deepEqual(ids("web", "pcre"), ["web1", "web2"]);
  assert.deepEqual(ids("eb", "pcre"), []);
  assert.deepEqual(ids("web\\d$", "pcre"), ["web1", "web2"]);
  assert.deepEqual(ids("db|web2", "pcre"), ["web2", "db1"]);
  assert.deepEqual(ids("x|b1", "pcre"), [], "every alternative is anchored");
  assert.deepEqual(ids("(?P<kind>web)1", "pcre"), ["web1"], "Python named groups");
});

Deno.test("grain matches key:value with a case-insensitive glob", () => {
  assert.deepEqual(ids("os:Debian", "grain"), ["web1", "web2"]);
  assert.deepEqual(ids("os:debian", "grain"), ["web1", "web2"]);
  assert.deepEqual(ids("os:Cent*", "grain"), ["db1"]);
  assert.deepEqual(ids("os:Ubuntu", "grain"), []);
  assert.deepEqual(ids("nosuch:*", "grain"), []);
});

Deno.test("grain: list grains match when any element does", () => {
  assert.deepEqual(ids("roles:web", "grain"), ["web1", "web2"]);
  assert.deepEqual(ids("roles:cache", "grain"), ["web1"]);
  assert.deepEqual(ids("roles:d?", "grain"), ["db1"]);
});

Deno.test("grain: ':' descends into nested grains and lists of mappings", () => {
  assert.deepEqual(ids("ip_interfaces:eth0:10.0.*", "grain"), ["web1"]);
  assert.deepEqual(ids("ip_interfaces:eth0:fe80::1", "grain"), ["web1"], "value with ':'");
  assert.deepEqual(ids("ip_interfaces:lo:127.*", "grain"), ["web1"]);
  assert.deepEqual(ids("ip_interfaces:eth0:192.*", "grain"), []);
  assert.deepEqual(ids("ip_interfaces:eth0", "grain"), ["web1"], "a key that exists");
  assert.deepEqual(ids("ip_interfaces:*", "grain"), ["web1"]);
  assert.deepEqual(ids("disks:name:sdb", "grain"), ["web1"]);
  assert.deepEqual(ids("disks:1:name:sdb", "grain"), ["web1"], "numeric list index");
  assert.deepEqual(ids("empty:*", "grain"), [], "an empty mapping is like a missing key");
});

Deno.test("grain: booleans and numbers compare as Python's str()", () => {
  assert.deepEqual(ids("virtual:True", "grain"), ["web1"]);
  assert.deepEqual(ids("virtual:true", "grain"), ["web1"]);
  assert.deepEqual(ids("num_cpus:4", "grain"), ["web1"]);
  assert.deepEqual(ids("osrelease:1*", "grain"), ["web1"]);
});

Deno.test("grain: a target without ':' is a TargetError", () => {
  assert.throws(() => compileTarget("Debian", "grain"), TargetError);
  assert.throws(() => compileTarget("Debian", "grain"), /has no ':'/);
});

Deno.test("compound: glob words and G@, L@, E@, P@, I@, J@", () => {
  assert.deepEqual(ids("web*", "compound"), ["web1", "web2"]);
  assert.deepEqual(ids("G@os:Debian", "compound"), ["web1", "web2"]);
  assert.deepEqual(ids("L@db1,lonely", "compound"), ["db1", "lonely"]);
  assert.deepEqual(ids("E@^w.b2$", "compound"), ["web2"]);
  assert.deepEqual(ids("P@os:(Deb|Cent)", "compound"), ["web1", "web2", "db1"]);
  assert.deepEqual(ids("P@os:^deb", "compound"), ["web1", "web2"], "case-insensitive");
  assert.deepEqual(ids("I@env:prod", "compound"), ["web1"]);
  assert.deepEqual(ids("I@app:tier:fr*", "compound"), ["web1"]);
  assert.deepEqual(ids("J@app:tier:^fr", "compound"), ["web1"]);
  assert.deepEqual(ids("G%@ip_interfaces%eth0%10.*", "compound"), ["web1"], "own delimiter");
});

Deno.test("compound: 'not' binds tighter than 'and', 'and' tighter than 'or'", () => {
  // Python: (web1) or ((db1) and (not G@os:CentOS)) → web1 only
  assert.deepEqual(ids("web1 or db1 and not G@os:CentOS", "compound"), ["web1"]);
  // (not web1) and (G@os:Debian) → web2
  assert.deepEqual(ids("not web1 and G@os:Debian", "compound"), ["web2"]);
  // (web*) or (db* and lonely) → web1, web2
  assert.deepEqual(ids("web* or db* and lonely", "compound"), ["web1", "web2"]);
  assert.deepEqual(ids("not not db1", "compound"), ["db1"]);
});

Deno.test("compound: parentheses group, and 'not' after a word means 'and not'", () => {
  assert.deepEqual(ids("( web1 or db1 ) and not G@os:CentOS", "compound"), ["web1"]);
  assert.deepEqual(ids("( web1 or db1 ) and ( G@os:CentOS or lonely )", "compound"), ["db1"]);
  assert.deepEqual(ids("not ( web* or db* )", "compound"), ["lonely"]);
  assert.deepEqual(ids("web* not web2", "compound"), ["web1"]);
  assert.deepEqual(ids(["(", "web1", "or", "db1", ")", "and", "not", "web1"], "compound"), [
    "db1",
  ]);
});

Deno.test("compound: bad expressions are TargetErrors that say what is wrong", () => {
  const bad: [string, RegExp][] = [
    ["( web* and db*", /expected '\)' but found the end/],
    ["web* )", /unbalanced '\)'/],
    ["and web*", /expected a word, 'not' or '\(' but found 'and'/],
    ["( or web1 )", /found 'or'/],
    ["web1 and", /found the end/],
    ["web1 web2", /expected 'and' or 'or' but found a word/],
    ["( )", /found '\)'/],
    ["", /empty compound target/],
    ["X@foo", /unknown prefix X@/],
    ["S@10.0.0.0/8", /S@ targeting is not supported/],
    ["N@group", /N@ targeting is not supported/],
    ["G@Debian", /grain target "Debian" has no ':'/],
    ["E@web(", /invalid pcre target/],
    ["P@os:(", /invalid grain pcre target/],
  ];
  for (const [tgt, message] of bad) {
    assert.throws(() => compileTarget(tgt, "compound"), (e: unknown) => {
      assert.ok(e instanceof TargetError, `${tgt}: ${e}`);
      assert.equal(e.name, "TargetError");
      assert.match(e.message, message, tgt);
      return true;
    });
  }
});

Deno.test("pcre: an invalid regex is a TargetError; other misuse too", () => {
  assert.throws(() => compileTarget("web(", "pcre"), /invalid pcre target "web\("/);
  assert.throws(() => compileTarget(["a"], "glob"), /a glob target must be a string/);
  assert.throws(
    () => compileTarget("x", "nodegroup" as never),
    /unknown target type "nodegroup"/,
  );
});

Deno.test("P@: a regex that is invalid for one split but valid for another is accepted", () => {
  // "(?:a|b)" contains ':' — splitting there leaves "a|b)" (invalid), the other split is fine.
  const match = compileTarget("P@os:(?:debian|centos)$", "compound");
  assert.equal(match(web1), true);
  assert.equal(match(noGrains), false);
});

Deno.test("matchTarget() is compileTarget() for one candidate", () => {
  assert.equal(matchTarget("os:Deb*", "grain", web1), true);
  assert.equal(matchTarget("db1", "glob", web1), false);
  assert.equal(matchTarget("G@roles:db or web2", "compound", db1), true);
});
