/**
 * Help texts of the CLI.
 *
 * @module
 */

const COMMON = `Common options:
  -c, --config FILE     YAML config with Salt's option names (sock_dir, hash_type, …)
      --sock-dir DIR    socket directory (wins over the config file)
      --id ID           minion id (minion bus socket names are hashed from it)
  -l, --log-level LVL   debug, info, warning, error or quiet
  -h, --help            this help`;

/**
 * The top-level usage text.
 *
 * @example
 * ```ts
 * import { USAGE } from "./usage.ts";
 * console.log(USAGE);
 * ```
 */
export const USAGE: string = `saltbus: SaltStack's event bus for Deno

Usage: cli.ts <command> [arguments] [options]

Commands:
  master                       run the master event bus in the foreground
                               (with the HTTP API when the config has an 'api:' block)
  api                          serve the HTTP API (/events, WebSockets, webhooks, viewer)
                               for a running master bus
  api hash-password [PASSWORD] print a password hash for external_auth: saltbus
  run state.event [tagmatch=*] [count=-1] [quiet=False] [pretty=False] [node=master] [sock_dir=DIR]
                               print events as Salt's runner does: <tag>\\t<json>
  run event.send <tag> [data]  fire an event on the master bus (data as YAML or JSON)
  watch [PATTERN]              short form of state.event (--count N, --pretty, --json)
  fire <tag> [data]            short form of event.send

Run 'cli.ts <command> --help' for a command's options.

${COMMON}`;

/**
 * Per-command help.
 *
 * @example
 * ```ts
 * import { HELP } from "./usage.ts";
 * console.log(HELP.watch);
 * ```
 */
export const HELP: Readonly<Record<"master" | "api" | "run" | "fire" | "watch", string>> = {
  master: `Usage: cli.ts master [--sock-dir DIR] [--config FILE]

Runs the master bus: a broker Worker listening on <sock_dir>/master_event_pub.ipc
and master_event_pull.ipc. Stops cleanly on SIGINT/SIGTERM (socket files removed).
With an 'api:' block in the config it also serves the HTTP API (see 'cli.ts api --help').

${COMMON}`,
  api: `Usage: cli.ts api [--config FILE] [--port N] [--host ADDR]
       cli.ts api hash-password [PASSWORD]

Serves salt-api's event streams for the master bus at sock_dir (connecting to
its sockets, reconnecting when it restarts):
  POST /login, /logout       tokens (external_auth: saltbus users)
  GET  /events               Server-Sent Events (resume: Last-Event-ID or ?since=;
                             filter: ?tag=PATTERN&match_type=TYPE)
  GET  /ws/<token>, /all_events/<token>, /formatted_events/<token>  WebSockets
  POST /hook/<path>          fires salt/netapi/hook/<path>
  GET  /                     the live event viewer
Config: api: {port: 8000, host: 127.0.0.1, ssl_crt, ssl_key, disable_ssl},
token_expire, external_auth, webhook_disable_auth, api_history_size,
api_client_buffer, webhook_max_body, api_keepalive (see the README).

hash-password prints the PBKDF2 hash to put in external_auth: saltbus: <user>:
password; without PASSWORD it reads the first line of standard input.

  --port N        overrides api.port (0: any free port)
  --host ADDR     overrides api.host

${COMMON}`,
  run: `Usage: cli.ts run state.event [tagmatch=*] [count=-1] [quiet=False] [pretty=False]
                            [node=master] [sock_dir=DIR]
       cli.ts run event.send <tag> [data]

state.event  prints each matching event as '<tag>\\t<json>' (pretty: sorted keys,
             4-space indent). tagmatch is an fnmatch glob or a full-string regex.
             count=N stops after N events (count=0 acts like count=1, as Salt).
event.send   fires <tag> with data (YAML 1.1 or JSON, e.g. '{success: True}')
             straight onto the master bus.

Arguments are Salt-style: positional or key=value, values read as YAML 1.1.

${COMMON}`,
  fire: `Usage: cli.ts fire <tag> [data] [--node master|minion] [--timeout MS]

Fires one event. data is YAML 1.1 or JSON ('{"a": 1}', '{success: True}').
Exits 1 when no bus listens (the event is not sent).

${COMMON}`,
  watch: `Usage: cli.ts watch [PATTERN] [--count N] [--pretty | --json] [--node master|minion]

Prints events as they arrive, '<tag>\\t<json>' per line (--json: one
{"tag": …, "data": …} object per line, for jq). PATTERN: fnmatch glob or
full-string regex, default '*'.

${COMMON}`,
};
