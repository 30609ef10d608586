import assert from "node:assert/strict";
import { join } from "node:path";
import { loadRoster, parseRoster, rosterCandidate, RosterError } from "./roster.ts";

Deno.test("parseRoster keeps devices with a proxytype; ids are strings", () => {
  assert.deepEqual(
    parseRoster({ sw1: { proxytype: "dummy", host: "10.0.0.1" }, 42: { proxytype: "x" } }),
    {
      42: { proxytype: "x" },
      sw1: { proxytype: "dummy", host: "10.0.0.1" },
    },
  );
  assert.deepEqual(parseRoster(null), {});
});

Deno.test("parseRoster rejects what cannot be run, naming the device", () => {
  const bad: [unknown, RegExp][] = [
    [["sw1"], /must be a mapping of device id/],
    [{ sw1: "dummy" }, /device sw1 in the roster: expected a mapping/],
    [{ sw1: {} }, /device sw1 in the roster has no proxytype/],
    [{ sw1: { proxytype: "" } }, /has no proxytype/],
    [
      { sw1: { proxytype: "dummy", grains: ["a"] } },
      /device sw1 in the roster: grains must be a mapping/,
    ],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseRoster(value), (e: unknown) => {
      assert.ok(e instanceof RosterError);
      assert.equal(e.name, "RosterError");
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("loadRoster reads YAML 1.1 and names the file in errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-roster-" });
  try {
    const file = join(dir, "roster");
    await Deno.writeTextFile(file, "sw1:\n  proxytype: dummy\n  enabled: yes\n");
    assert.deepEqual(await loadRoster(file), { sw1: { proxytype: "dummy", enabled: true } });
    await Deno.writeTextFile(file, "sw1: [unclosed\n");
    await assert.rejects(loadRoster(file), /roster file .*roster is not valid YAML/);
    await assert.rejects(loadRoster(join(dir, "missing")), /cannot read roster file .*missing/);
    await Deno.writeTextFile(file, "sw1: {}\n");
    await assert.rejects(loadRoster(file), /device sw1 in roster file .*roster has no proxytype/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rosterCandidate targets static grains and the options as pillar 'proxy'", () => {
  const options = { proxytype: "dummy", grains: { role: "edge" } };
  assert.deepEqual(rosterCandidate("sw1", options), {
    id: "sw1",
    grains: { role: "edge" },
    pillar: { proxy: options },
  });
  assert.deepEqual(rosterCandidate("sw2", { proxytype: "dummy" }).grains, {});
});
