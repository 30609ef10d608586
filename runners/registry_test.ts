import assert from "node:assert/strict";
import { UsageError } from "../bus/errors.ts";
import { createLogger } from "../bus/log.ts";
import { resolveConfig } from "../bus/config.ts";
import { socketServices } from "../link/node_services.ts";
import { callRunner, RunnerNotFoundError, RUNNERS } from "./registry.ts";

const ctx = {
  opts: resolveConfig("master", { sock_dir: "/nonexistent/saltbus" }),
  configFor: (node: "master" | "minion") =>
    Promise.resolve(resolveConfig(node, { sock_dir: "/nonexistent/saltbus", id: "m" })),
  log: createLogger("quiet"),
  services: socketServices,
  print: () => {},
};

Deno.test("the registry holds Salt's runner names, from each module's exported functions", () => {
  assert.deepEqual(Object.keys(RUNNERS), [
    "cache.grains",
    "event.send",
    "jobs.active",
    "jobs.exit_success",
    "jobs.last_run",
    "jobs.list_job",
    "jobs.list_jobs",
    "jobs.lookup_jid",
    "jobs.print_job",
    "manage.down",
    "manage.status",
    "manage.up",
    "manage.versions",
    "reactor.add",
    "reactor.delete",
    "reactor.is_leader",
    "reactor.list",
    "reactor.set_leader",
    "state.event",
    "test.arg",
    "test.sleep",
  ]);
});

Deno.test("callRunner() refuses an unknown runner and binds arguments with Salt's rules", async () => {
  await assert.rejects(callRunner("nosuch.fun", [], {}, ctx), RunnerNotFoundError);
  await assert.rejects(
    callRunner("state.event", [], { colour: "red" }, ctx),
    (err: Error) =>
      err instanceof UsageError && /unexpected keyword argument 'colour'/.test(err.message),
  );
  await assert.rejects(
    callRunner("state.event", ["*", "lots"], {}, ctx),
    /count must be an integer, not 'lots'/,
  );
  await assert.rejects(
    callRunner("event.send", [], {}, ctx),
    /missing 1 required positional argument: 'tag'/,
  );
});
