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
  master                       run the master: its event bus and the link its minions connect to
                               (and the HTTP API when the config has an 'api:' block)
  minion --id ID               run a minion: its own bus, forwarding to the master, running jobs
  call <fun> [args] [k=v]      run an execution function here, as salt-call (call test.ping)
  <target> <fun> [args] [k=v]  run a job on the minions that match (also: salt <target> <fun>)
  api                          serve the HTTP API (/events, WebSockets, webhooks, viewer)
                               for a running master bus
  api hash-password [PASSWORD] print a password hash for external_auth: saltbus
  run state.event [tagmatch=*] [count=-1] [quiet=False] [pretty=False] [node=master] [sock_dir=DIR]
                               print events as Salt's runner does: <tag>\\t<json>
  run event.send <tag> [data]  fire an event on the master bus (data as YAML or JSON)
  run manage.up|down|status    the minions connected to the master, or known but gone
  proxy <target> <fun> [args]  run a function on roster devices through proxy modules (salt-sproxy)
  key [-L|-a ID|-A|-r ID|-R|-d ID|-D|-f ID|-F] [-y]  the master's minion keys, as salt-key
                               (transport: nats)
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
export const HELP: Readonly<
  Record<
    "master" | "api" | "minion" | "call" | "run" | "proxy" | "fire" | "watch" | "key",
    string
  >
> = {
  key: `Usage: cli.ts key [-L | -a ID | -A | -r ID | -R | -d ID | -D | -f ID | -F] [-y]

The master's minion keys, as salt-key (in pki_dir, by default <sock_dir>/pki):
  -L, --list-all     list the keys by state (the default; --out json for JSON)
  -a, --accept ID    accept the pending keys ID (a glob) names
  -A, --accept-all   accept every pending key
  -r, --reject ID    reject the pending keys ID names   (-R: all)
  -d, --delete ID    delete the keys ID names           (-D: all)
  -f, --finger ID    print the keys' fingerprints       (-F: all)
  -y, --yes          do not ask before changing keys
      --include-rejected, --include-denied, --include-accepted  widen -a / -r
A running master with transport: nats applies a change within seconds: an
accepted minion may connect, a deleted or rejected one is cut off.

${COMMON}`,
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
token_expire, external_auth, webhook_disable_auth, api_history_size, api_history_file,
api_client_buffer, webhook_max_body, api_keepalive (see the README).

hash-password prints the PBKDF2 hash to put in external_auth: saltbus: <user>:
password; without PASSWORD it reads the first line of standard input.

  --port N        overrides api.port (0: any free port)
  --host ADDR     overrides api.host

${COMMON}`,
  minion: `Usage: cli.ts minion --id ID [--config FILE] [--sock-dir DIR] [--master-sock-dir DIR]

Runs a minion: a broker Worker on <sock_dir>/minion_event_<hash>_{pub,pull}.ipc, a
link to the master (master: local, through master_sock_dir), forwarding of
fire_master events to the master bus, and the jobs the master publishes. While
the master is away, events wait in a bounded queue (master_queue_size).

      --master-sock-dir DIR  the master's sock_dir (wins over master_sock_dir)

${COMMON}`,
  call: `Usage: cli.ts call <fun> [args...] [key=value...] [--local] [--out FORMAT]

Runs one execution function on this host, as salt-call:
  cli.ts call test.ping
  cli.ts call event.send myco/mytag/success '{success: True, message: "It works!"}'
  cli.ts call event.fire '{"data": 1}' my/tag
Arguments are YAML 1.1; key=value are keyword arguments. Functions that take
keyword arguments get __pub_fun, __pub_jid, __pub_pid and __pub_tgt=salt-call.

      --local               no master: event.send fires on the local minion bus
      --out FORMAT          nested (default), json, yaml, txt or quiet
      --master-sock-dir DIR the master's sock_dir

Exit code 1 when the function is unknown, raised, or returned False.

${COMMON}`,
  run: `Usage: cli.ts run state.event [tagmatch=*] [count=-1] [quiet=False] [pretty=False]
                            [node=master] [sock_dir=DIR]
       cli.ts run event.send <tag> [data]
       cli.ts run manage.up | manage.down | manage.status

state.event  prints each matching event as '<tag>\\t<json>' (pretty: sorted keys,
             4-space indent). tagmatch is an fnmatch glob or a full-string regex.
             count=N stops after N events (count=0 acts like count=1, as Salt).
event.send   fires <tag> with data (YAML 1.1 or JSON, e.g. '{success: True}')
             straight onto the master bus.
manage.*     the minions connected to the master (up), known but gone (down), both (status).

Arguments are Salt-style: positional or key=value, values read as YAML 1.1.
--out FORMAT (nested, json, yaml, txt, quiet) and --out-indent N shape a runner's return.

${COMMON}`,
  proxy: `Usage: cli.ts proxy <target> <fun> [args...] [key=value...] [options]

Runs <fun> on every roster device the target matches, as salt-sproxy: each
device through its proxy module (proxytype), in a pool of Workers, with no
proxy minion running. Prints '<id>:' and the return per device, sorted by id.
  cli.ts proxy '*' test.ping --roster roster.yml
  cli.ts proxy -L sw1,sw2 net.arp interface=Ethernet1 --roster roster.yml
  cli.ts proxy -G role:edge grains.items --events --summary

Roster (YAML): <device id>: {proxytype: dummy, grains: {...}, ...options}

  -L, --list            target is a comma-separated list of ids
  -E, --pcre            target is a regex on the id (anchored at the start)
  -G, --grain           target is key:value on the roster's static grains
  -C, --compound        target is a compound expression (G@, L@, E@, P@, I@, and/or/not)
  -r, --roster FILE     roster file (default: roster_file, else 'roster' beside --config)
      --proxy-dir DIR   a directory of proxy modules <proxytype>.ts (repeatable;
                        default: proxy_module_dirs)
  -t, --timeout SECONDS per device (default 30): then success False, "Timed out after N s"
  -b, --batch-size N    Workers running devices (default: the number of cores)
      --events          fire <jid>, proxy/runner/<jid>/new and …/ret/<id> on the master
                        bus (also: events: True in the config)
      --summary         print a summary on stderr; with --events also fire …/summary
      --out FORMAT      nested (default), json, yaml, txt or quiet

Exit code 1 when a device failed, timed out or was unreachable, or none matched.

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

/**
 * Help of the job command, `cli.ts <target> <fun> …`.
 *
 * @example
 * ```ts
 * import { JOB_HELP } from "./usage.ts";
 * console.log(JOB_HELP);
 * ```
 */
export const JOB_HELP: string = `Usage: cli.ts <target> <fun> [args...] [key=value...] [options]
       cli.ts salt <target> <fun> ...     (when the target collides with a command name)

Runs <fun> on every connected minion the target matches, through the master,
and prints each minion's return. Events on the master bus: <jid>,
salt/job/<jid>/new, then salt/job/<jid>/ret/<id> per minion.

  -L, --list       the target is a comma-separated list of ids
  -E, --pcre       the target is a regular expression on ids
  -G, --grain      the target is key:glob on grains (os:Debian)
  -C, --compound   and/or/not of globs and G@, L@, E@, P@ words
  -t, --timeout S  seconds to wait for returns (default 5)
  -b, --batch-size N  run on N minions (or N% of those answering a ping) at a
                   time, the next starting as one returns, as Salt's batch
      --out FORMAT nested (default), json, yaml, txt or quiet
      --async      publish, print "Executed command with job ID: <jid>" and exit;
                   the returns go to the job cache (cli.ts run jobs.lookup_jid <jid>)
      --return R   the minions also send their returns to returner R (a,b for
                   several): built-ins such as sqlite, or from their returner_dirs
  -v, --verbose    print "Executing job with jid <jid>" first
      --show-jid   print "jid: <jid>" first
      --static     wait for every return, then print them as one block
      --out-file F write the output to file F (truncated; --out-file-append: appended)
      --out-indent N  spaces per level of --out json
      --no-color / --force-color  colours of the nested output (default: on a terminal)
  Ctrl-C while waiting prints the jid and how to look the returns up later.

Exit code 1 when a minion failed, did not return, or is not connected.

${COMMON}`;
