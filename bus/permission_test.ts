import assert from "node:assert/strict";
import { PermissionError, permissionError, withPermission } from "./permission.ts";

Deno.test("permissionError() turns Deno's refusal, even as a cause, into a PermissionError naming the flag", () => {
  const refusal = new Deno.errors.NotCapable(
    'Requires env access to "XDG_RUNTIME_DIR", run again with the --allow-env flag',
  );
  const denied = permissionError(new Error("wrapped", { cause: refusal }), "finding sock_dir");
  assert.ok(denied instanceof PermissionError);
  assert.equal(denied.flag, "--allow-env");
  assert.match(denied.message, /^finding sock_dir needs --allow-env: Requires env access/);
  assert.equal(permissionError(new Error("plain"), "x"), undefined);
  assert.throws(
    () =>
      withPermission("doing it", () => {
        throw refusal;
      }),
    PermissionError,
  );
  assert.equal(withPermission("doing it", () => 3), 3);
});
