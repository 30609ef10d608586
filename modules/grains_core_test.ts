import assert from "node:assert/strict";
import { coreGrains, fqdnFromHosts, parseOsRelease } from "./grains_core.ts";

Deno.test("coreGrains() reads the real host through Deno's APIs", () => {
  const g = coreGrains({ id: "web1" });
  assert.equal(g.id, "web1");
  assert.equal(g.num_cpus, navigator.hardwareConcurrency);
  assert.equal(g.kernelrelease, Deno.osRelease());
  assert.equal(g.cpuarch, Deno.build.arch);
  assert.equal(g.localhost, Deno.hostname());
  assert.equal(g.host, Deno.hostname().split(".")[0]);
  assert.equal(g.mem_total, Math.floor(Deno.systemMemoryInfo().total / 1048576));
  assert.equal(g.deno_version, Deno.version.deno);
  assert.equal(g.pid, Deno.pid);
  assert.equal(
    g.kernel,
    { linux: "Linux", darwin: "Darwin", windows: "Windows" }[Deno.build.os as string],
  );
  const addresses = Deno.networkInterfaces();
  const v4 = [...new Set(addresses.filter((a) => a.family === "IPv4").map((a) => a.address))];
  assert.deepEqual([...(g.ipv4 as string[])].sort(), v4.sort());
  assert.ok((g.ipv4 as string[]).includes("127.0.0.1"), "loopback is included, as Salt");
  const ip4 = g.ip4_interfaces as Record<string, string[]>;
  for (const a of addresses.filter((x) => x.family === "IPv4")) {
    assert.ok(ip4[a.name].includes(a.address), `${a.name} ${a.address}`);
  }
  assert.equal(typeof g.os, "string");
  assert.equal(typeof g.os_family, "string");
  assert.equal(g.saltbus_version, "0.1.0");
});

Deno.test("coreGrains() reads os grains from /etc/os-release on Linux", async () => {
  if (Deno.build.os !== "linux") return;
  let text: string;
  try {
    text = await Deno.readTextFile("/etc/os-release");
  } catch {
    return;
  }
  const rel = parseOsRelease(text);
  const g = coreGrains({});
  if (rel.ID === "debian") {
    assert.equal(g.os, "Debian");
    assert.equal(g.os_family, "Debian");
    assert.equal(g.oscodename, rel.VERSION_CODENAME);
    assert.ok(String(g.osrelease).startsWith(rel.VERSION_ID));
    assert.equal(g.osmajorrelease, Number.parseInt(rel.VERSION_ID, 10));
  } else {
    assert.ok(typeof g.os === "string" && g.os !== "");
  }
});

Deno.test("coreGrains() defaults id to the fqdn and returns a fresh object each time", () => {
  const a = coreGrains({});
  assert.equal(a.id, a.fqdn);
  (a.ipv4 as string[]).push("x");
  const b = coreGrains({});
  assert.ok(!(b.ipv4 as string[]).includes("x"));
});

Deno.test("parseOsRelease() reads quoted and unquoted values", () => {
  assert.deepEqual(
    parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n' +
        'ID=debian\n# comment\nBUG=\'x y\'\nESC="a \\"q\\""\n',
    ),
    {
      PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)",
      NAME: "Debian GNU/Linux",
      VERSION_ID: "12",
      ID: "debian",
      BUG: "x y",
      ESC: 'a "q"',
    },
  );
});

Deno.test("fqdnFromHosts() finds the dotted name of a short hostname in /etc/hosts", () => {
  const hosts = "127.0.0.1 localhost\n127.0.1.1 web1.example.com web1 # me\n";
  assert.equal(fqdnFromHosts("web1", hosts), "web1.example.com");
  assert.equal(fqdnFromHosts("db1", hosts), "db1");
  assert.equal(fqdnFromHosts("web1.other.org", hosts), "web1.other.org");
  assert.equal(fqdnFromHosts("web1", undefined), "web1");
});
