import assert from "node:assert/strict";
import { reservedTagReason } from "./reserved_tags.ts";

function refused(tag: string, id = "web1", role: "minion" | "client" = "minion"): string {
  const reason = reservedTagReason(tag, id, role);
  assert.notEqual(reason, null, `${tag} from ${role} ${id} should be refused`);
  return reason!;
}

function allowed(tag: string, id = "web1", role: "minion" | "client" = "minion"): void {
  assert.equal(reservedTagReason(tag, id, role), null, `${tag} from ${role} ${id}`);
}

Deno.test("reservedTagReason() refuses another minion's bare salt/minion/<id> tag, with no trailing slash", () => {
  assert.match(refused("salt/minion/web2"), /another minion's tag \(web2\), sent by web1/);
  assert.match(refused("salt/minion/web2/start"), /another minion's tag \(web2\)/);
  assert.match(refused("salt/minion/"), /names no minion/);
  assert.match(refused("salt/minion"), /names no minion/);
  allowed("salt/minion/web1/start");
  allowed("salt/minion/web1");
  allowed("salt/minionish/web2"); // another namespace
});

Deno.test("reservedTagReason() refuses salt/beacon/<other>/… and allows a minion's own beacons", () => {
  assert.match(refused("salt/beacon/web2/inotify//etc/passwd"), /another minion's tag \(web2\)/);
  assert.match(refused("salt/beacon/web2"), /another minion's tag \(web2\)/);
  assert.match(refused("salt/beacon"), /names no minion/);
  allowed("salt/beacon/web1/load/");
});

Deno.test("reservedTagReason() refuses salt/presence/present and salt/presence/change", () => {
  for (const tag of ["salt/presence/present", "salt/presence/change", "salt/presence"]) {
    assert.match(refused(tag), /reserved for the master \(salt\/presence\)/);
  }
  allowed("salt/presences"); // not the namespace
});

Deno.test("reservedTagReason() refuses salt/netapi/hook/… (the API's webhooks) and the webhook engine's tags", () => {
  assert.match(refused("salt/netapi/hook/deploy"), /reserved for the master \(salt\/netapi\)/);
  assert.match(refused("salt/netapi"), /salt\/netapi/);
  assert.match(refused("salt/engines/hook/deploy"), /salt\/engines\/hook/);
});

Deno.test("reservedTagReason() refuses the bus's own saltbus/… notices", () => {
  for (const tag of ["saltbus/subscriber/dropped", "saltbus/api/missed", "saltbus/api/dropped"]) {
    assert.match(refused(tag), /reserved for the master \(saltbus\)/);
  }
  allowed("saltbusy/x");
});

Deno.test("reservedTagReason() refuses reactor management and salt/event/exit", () => {
  assert.match(refused("salt/reactors/manage/add"), /salt\/reactors\/manage/);
  assert.match(refused("salt/event/exit"), /salt\/event\/exit/);
});

Deno.test("reservedTagReason() still refuses the master's job, key, auth and run tags and bare job ids", () => {
  assert.match(refused("salt/job/20240501123456789012/ret/web1"), /salt\/job\//);
  assert.match(refused("salt/key"), /salt\/key/);
  assert.match(refused("salt/auth"), /salt\/auth/);
  assert.match(refused("salt/run/20240501123456789012/new"), /salt\/run\//);
  assert.match(refused("20240501123456789012"), /a job id/);
  allowed("salt/keyring/x");
  allowed("myco/deploy/done");
});

Deno.test("reservedTagReason() refuses a client link a minion daemon's own tags, even for its own id", () => {
  assert.match(
    refused("salt/minion/web1/start", "web1", "client"),
    /only the minion daemon's link may send salt\/minion\/web1\/start, not a client link/,
  );
  assert.match(refused("minion_start", "web1", "client"), /only the minion daemon's link/);
  assert.match(refused("salt/beacon/web1/load/", "web1", "client"), /only the minion daemon/);
  assert.match(refused("minion/refresh/web1", "web1", "client"), /only the minion daemon/);
  assert.match(refused("salt/minion/web2/start", "web1", "client"), /another minion's tag/);
  allowed("minion_start", "web1", "minion");
  allowed("myco/custom/tag", "web1", "client");
});
