/**
 * The saltbus command line, in Salt's habits:
 *
 * ```sh
 * deno task start                                  # cli.ts master
 * deno task cli run state.event pretty=True        # watch the master bus
 * deno task cli run event.send my/tag '{success: True}'
 * deno task cli fire my/tag '{"data": 1}'
 * ```
 *
 * @module
 */
import { main } from "./cli/main.ts";

export { main };

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
