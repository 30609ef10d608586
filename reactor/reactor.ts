/**
 * The reactor (spec §12): one consumer of the bus that, for each event in
 * turn, finds the reaction files whose tag glob matches, renders them with
 * `tag` and `data`, compiles the reactions and dispatches them: `local`
 * (and `cmd`) publish a job, `runner` calls the runner registry on a
 * bounded pool, `wheel` calls the wheel registry on the same pool (with
 * `salt/wheel/<jid>/new` and `/ret`), `caller` calls an execution module
 * in-process.
 *
 * Beyond Salt: a loop guard (on by default, `reactor_loop_guard`) keeps a
 * reaction from reacting to events of the jobs it caused, directly or
 * through other reactions; entries with `react_to_reactor: true` see the
 * events of runner reactions (`user: Reactor`); every failure is logged and
 * fired as `saltbus/reactor/error/<kind>`; and the loop never ends on a bad
 * reaction.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { genJid } from "../bus/jid.ts";
import type { Logger } from "../bus/log.ts";
import { isMapping } from "../bus/mapping.ts";
import type { NodeServices } from "../link/node_services.ts";
import { Caller } from "../modules/caller.ts";
import { signatureOf } from "../modules/signature.ts";
import { callRunner, RUNNERS } from "../runners/registry.ts";
import type { RunnerContext } from "../runners/runner_context.ts";
import { runWheel, WHEEL_FUNCTIONS } from "../wheel/registry.ts";
import { compileReactions, type LowChunk, shapeCall } from "./chunks.ts";
import {
  mapToList,
  matchReactors,
  parseReactorMap,
  type ReactorEntry,
  readReactorMapFile,
} from "./reactor_map.ts";
import { expandFile, type HighData, ReactionRenderError, renderReactionFile } from "./render.ts";
import { TaskPool } from "./task_pool.ts";

/** A job a `local` reaction publishes. */
export interface ReactorPublishRequest {
  /** The target. */
  tgt: string | string[];
  /** How to read it (default `glob`). */
  tgt_type?: string;
  /** The function. */
  fun: string;
  /** Salt's argument list (keyword arguments as a trailing map with `__kwarg__: true`). */
  arg: unknown[];
  /** Always `"Reactor"`. */
  user: string;
}

/** Options of {@linkcode Reactor}. */
export interface ReactorOptions {
  /** The master configuration (`reactor`, `reactor_worker_threads`, …). */
  config: BusConfig;
  /** Where to log. */
  log: Logger;
  /** A listening client of the bus the reactor serves; the reactor closes it. */
  listener: EventClient;
  /** A client to fire events with (not closed by the reactor). */
  events: EventClient;
  /** How to reach buses and the master (for runners). */
  services: NodeServices;
  /** Publishes a job (`local` reactions). */
  publish: (request: ReactorPublishRequest) => Promise<{ jid: string }>;
}

/** `reactor.add` / `reactor.delete` results (Salt's shapes). */
export interface ManageResult {
  /** Whether the map changed. */
  status: boolean;
  /** Salt's comment. */
  comment: string;
}

/** The tag prefix of the reactor's error events. */
export const REACTOR_ERROR_TAG = "saltbus/reactor/error";

const GUARD_MAX = 10_000;
const JID_TAG = /^(?:salt\/(?:job|run|wheel)\/(\d{20})\/|(\d{20})$)/;

/**
 * A running reactor over one bus. `start()` subscribes and begins; `close()`
 * stops it and waits for queued runner reactions.
 *
 * @example
 * ```ts
 * import { Reactor } from "./reactor.ts";
 * import { startBus } from "../broker/start_bus.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { inProcessServices } from "../link/node_services.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * const reactor = new Reactor({
 *   config: { ...bus.config, reactor: [{ "myco/*": "/srv/reactor/my.sls" }] },
 *   log: createLogger("info"),
 *   listener: bus.getEvent(),
 *   events: bus.getEvent({ listen: false }),
 *   services: inProcessServices(bus),
 *   publish: () => Promise.resolve({ jid: "20261201000000000000" }),
 * });
 * await reactor.start();
 * await reactor.close();
 * ```
 */
export class Reactor {
  readonly #options: ReactorOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #pool: TaskPool;
  readonly #guard: boolean;
  /** jid → the reactions (`file#id`) that caused it. */
  readonly #causes = new Map<string, Set<string>>();
  #entries: ReactorEntry[];
  #leader = true;
  #loop: Promise<void> | null = null;
  #caller: Caller | null = null;

  /** Creates the reactor; nothing runs before {@linkcode Reactor.start}. */
  constructor(options: ReactorOptions) {
    this.#options = options;
    this.#log = options.log;
    const { config } = options;
    this.#entries = parseReactorMap(config.reactor);
    const threads = numberOption(config.reactor_worker_threads, 10);
    const hwm = numberOption(config.reactor_worker_hwm, 10000);
    this.#pool = new TaskPool(threads, hwm);
    this.#guard = config.reactor_loop_guard !== false;
  }

  /** Subscribes to the bus and starts the loop. */
  async start(): Promise<void> {
    const { listener, config } = this.#options;
    await listener.connected(5);
    const what = typeof config.reactor === "string"
      ? `the reactor map in ${config.reactor}`
      : `${this.#entries.length} tag glob(s)`;
    this.#log.info(
      `reactor: reacting to ${what}; loop guard ${this.#guard ? "on" : "off"}`,
    );
    this.#loop = this.#run();
  }

  /** Stops the loop, waits for queued runner reactions, closes the listener. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#options.listener.close();
    await this.#loop;
    await this.#pool.drain();
    await this.#caller?.close();
  }

  async #run(): Promise<void> {
    const events = this.#options.listener.iterEvents({
      full: true,
      autoReconnect: true,
      signal: this.#abort.signal,
    });
    for await (const event of events) {
      try {
        await this.handle(event.tag, event.data);
      } catch (err) {
        // Never ends the loop (Salt's reactor dies and is restarted here).
        this.#fail("dispatch", `Reactor failed on event ${event.tag}: ${messageOf(err)}`, {
          event_tag: event.tag,
        });
      }
    }
  }

  /**
   * Handles one event (Salt's main loop, §12.3). Exposed for tests; the loop
   * calls it for each event in turn.
   */
  async handle(tag: string, data: unknown): Promise<void> {
    const d = isMapping(data) ? data : {};
    const fromReactor = d.user === "Reactor";
    if (tag.includes("salt/reactors/manage")) {
      if (!/(-complete|-results|leader\/value)$/.test(tag)) {
        this.#log.error(
          "received salt/reactors/manage event without matching master_key. discarding",
        );
      }
      return;
    }
    if (!this.#leader) return;
    const entries = await this.#currentEntries();
    const matched = matchReactors(entries, tag).filter((m) => !fromReactor || m.reactToReactor);
    if (matched.length === 0) return;
    this.#log.debug(`Gathering reactors for tag ${tag}`);
    const high: HighData = {};
    const files: string[] = [];
    for (const { file: ref } of matched) {
      const found = ref.startsWith("salt://") ? [] : await expandFile(ref);
      if (found.length === 0) {
        this.#fail(
          "render",
          `Can not render SLS ${ref} for tag ${tag}. File missing or not found.` +
            (ref.startsWith("salt://") ? " (saltbus has no fileserver: use a local path)" : ""),
          { event_tag: tag, file: ref },
        );
        continue;
      }
      for (const file of found) {
        files.push(file);
        try {
          const rendered = await renderReactionFile(file, tag, data);
          this.#log.debug(`Rendered data from file: ${file}: ${JSON.stringify(rendered)}`);
          Object.assign(high, rendered);
        } catch (err) {
          const stage = err instanceof ReactionRenderError ? err.stage : "render";
          this.#fail("render", messageOf(err), { event_tag: tag, file, stage });
        }
      }
    }
    if (Object.keys(high).length === 0) return;
    this.#log.debug(`Compiling reactions for tag ${tag}`);
    const { chunks, errors } = compileReactions(high);
    if (errors.length > 0) {
      this.#fail(
        "compile",
        `Unable to render reactions for event ${tag} due to errors (${
          errors.join("; ")
        }) in one or more of the sls files (${files.join(", ")})`,
        { event_tag: tag, errors },
      );
      return;
    }
    const causes = this.#causesOf(tag, d);
    for (const chunk of chunks) {
      const key = `${chunk.__sls__}#${chunk.__id__}`;
      if (this.#guard && causes.has(key)) {
        this.#log.debug(
          `Reactor '${chunk.__id__}' (${chunk.__sls__}) skipped for ${tag}: ` +
            `the event comes from its own job (reactor_loop_guard)`,
        );
        continue;
      }
      await this.#dispatch(chunk, tag, new Set([...causes, key]));
    }
  }

  async #dispatch(chunk: LowChunk, tag: string, causes: Set<string>): Promise<void> {
    const { state: type, fun, __id__: id } = chunk;
    const facts = { event_tag: tag, file: chunk.__sls__, id, type, fun };
    const failed = (message: string) => this.#fail("dispatch", message, facts);
    try {
      switch (type) {
        case "local": {
          const call = shapeCall(chunk);
          for (const w of call.warnings) this.#log.warning(w);
          if (call.error) return failed(call.error);
          const arg = withKwargs(call.arg, call.kwarg);
          const tgtType = call.kw.tgt_type ?? call.kw.expr_form;
          const { jid } = await this.#options.publish({
            tgt: call.tgt as string | string[],
            tgt_type: typeof tgtType === "string" ? tgtType : undefined,
            fun,
            arg,
            user: "Reactor",
          });
          this.#remember(jid, causes);
          return;
        }
        case "runner": {
          const runner = Object.hasOwn(RUNNERS, fun) ? RUNNERS[fun] : undefined;
          if (runner === undefined) {
            return failed(
              `Reactor '${id}' failed to execute runner '${fun}': function not available`,
            );
          }
          const call = shapeCall(chunk, signatureOf(runner));
          for (const w of call.warnings) this.#log.warning(w);
          if (call.error) return failed(call.error);
          const jid = genJid();
          this.#remember(jid, causes);
          const queued = this.#pool.fireAsync(() => this.#runRunner(jid, fun, call, facts));
          if (!queued) {
            failed(
              `Reactor '${id}' failed  to execute runner '${fun}': TaskPool queue is full!Consider tuning reactor_worker_threads and/or reactor_worker_hwm`,
            );
          }
          return;
        }
        case "wheel": {
          const wheel = Object.hasOwn(WHEEL_FUNCTIONS, fun) ? WHEEL_FUNCTIONS[fun] : undefined;
          if (wheel === undefined) {
            return failed(
              `Reactor '${id}' failed to execute wheel '${fun}': function not available`,
            );
          }
          const call = shapeCall(chunk, signatureOf(wheel));
          for (const w of call.warnings) this.#log.warning(w);
          if (call.error) return failed(call.error);
          const jid = genJid();
          this.#remember(jid, causes);
          const queued = this.#pool.fireAsync(async () => {
            const { data } = await runWheel(fun, call.arg, call.kwarg, this.#runnerContext(fun), {
              jid,
              user: "Reactor",
            });
            if (!data.success) {
              this.#fail(
                "dispatch",
                `Reactor '${id}' failed to execute wheel '${fun}': ${String(data.return)}`,
                facts,
              );
            }
          });
          if (!queued) {
            failed(
              `Reactor '${id}' failed  to execute wheel '${fun}': TaskPool queue is full!Consider tuning reactor_worker_threads and/or reactor_worker_hwm`,
            );
          }
          return;
        }
        case "caller": {
          const call = shapeCall(chunk);
          for (const w of call.warnings) this.#log.warning(w);
          if (call.error) return failed(call.error);
          // On a minion (the reactor engine) caller reactions run with that minion's config.
          const { config } = this.#options;
          this.#caller ??= new Caller({
            log: this.#log,
            opts: config.node === "minion" ? { ...config } : undefined,
          });
          await this.#caller.cmd(fun, ...withKwargs(call.arg, call.kwarg));
          return;
        }
        default:
          return failed(`ReactWrap is missing a wrapper function for '${type}'`);
      }
    } catch (err) {
      failed(`Reactor '${id}' failed to execute ${type} '${fun}': ${messageOf(err)}`);
    }
  }

  async #runRunner(
    jid: string,
    fun: string,
    call: ReturnType<typeof shapeCall>,
    facts: Record<string, unknown>,
  ): Promise<void> {
    const { events } = this.#options;
    const funArgs = Object.keys(call.kwarg).length > 0
      ? [...call.arg, { ...call.kwarg }]
      : [...call.arg];
    const base = { fun: `runner.${fun}`, fun_args: funArgs, jid, user: "Reactor" };
    await events.fireEvent(base, `salt/run/${jid}/new`);
    const ctx = this.#runnerContext(fun);
    let ret: unknown;
    let success = true;
    try {
      ret = await callRunner(fun, call.arg, call.kwarg, ctx);
    } catch (err) {
      success = false;
      ret = `Exception occurred in runner ${fun}: ${messageOf(err)}`;
      this.#fail(
        "dispatch",
        `Reactor '${facts.id}' failed to execute runner '${fun}': ${messageOf(err)}`,
        facts,
      );
    }
    await events.fireEvent({ ...base, return: ret ?? null, success }, `salt/run/${jid}/ret`);
  }

  /** The runner (and wheel) context reactions run with. */
  #runnerContext(fun: string): Omit<RunnerContext, "fun"> {
    const { config, services } = this.#options;
    return {
      opts: config,
      configFor: (node, overrides) =>
        Promise.resolve(
          resolveConfig(node, {
            ...(node === config.node ? { sock_dir: config.sock_dir } : {}),
            ...overrides,
          }),
        ),
      log: this.#log,
      services,
      print: (line) => this.#log.info(`runner ${fun}: ${line}`),
      signal: this.#abort.signal,
    };
  }

  /** The reactions that caused this event's job, if a reaction published it. */
  #causesOf(tag: string, data: Record<string, unknown>): Set<string> {
    const byTag = JID_TAG.exec(tag);
    const jid = byTag ? (byTag[1] ?? byTag[2]) : typeof data.jid === "string" ? data.jid : null;
    return (jid !== null && this.#causes.get(jid)) || new Set();
  }

  #remember(jid: string, causes: Set<string>): void {
    if (!this.#guard) return;
    this.#causes.set(jid, causes);
    if (this.#causes.size > GUARD_MAX) {
      this.#causes.delete(this.#causes.keys().next().value as string);
    }
  }

  async #currentEntries(): Promise<ReactorEntry[]> {
    const option = this.#options.config.reactor;
    if (typeof option !== "string") return this.#entries;
    const { entries, error } = await readReactorMapFile(option);
    if (error) this.#fail("map", error, { file: option });
    return entries;
  }

  /** Logs `message` at error and fires it as `saltbus/reactor/error/<kind>`. */
  #fail(kind: string, message: string, facts: Record<string, unknown>): void {
    this.#log.error(message);
    this.#options.events.fireEvent(
      { ...facts, kind, message, user: "Reactor" },
      `${REACTOR_ERROR_TAG}/${kind}`,
    ).catch((err) =>
      this.#log.warning(`reactor: could not fire its error event: ${messageOf(err)}`)
    );
  }

  // ------------------------------------------------------------ management

  /** Salt's `list_all()`: the whole reactor map, `[{tag: [files]}]`. */
  async list(): Promise<Record<string, string[]>[]> {
    return mapToList(await this.#currentEntries());
  }

  /** Salt's `add_reactor`: appends `{event: reactors}` unless that exact tag is there. */
  add(event: string, reactors: string | string[]): ManageResult {
    if (typeof this.#options.config.reactor === "string") {
      return {
        status: false,
        comment: `Reactor map is the file ${this.#options.config.reactor}: edit it instead.`,
      };
    }
    if (this.#entries.some((e) => e.tag === event)) {
      return { status: false, comment: "Reactor already exists." };
    }
    const files = typeof reactors === "string" ? [reactors] : reactors.map(String);
    this.#entries = [...this.#entries, { tag: event, files, reactToReactor: false }];
    return { status: true, comment: "Reactor added." };
  }

  /** Salt's `delete_reactor`: removes the entries whose tag is exactly `event`. */
  delete(event: string): ManageResult {
    if (typeof this.#options.config.reactor === "string") {
      return {
        status: false,
        comment: `Reactor map is the file ${this.#options.config.reactor}: edit it instead.`,
      };
    }
    const kept = this.#entries.filter((e) => e.tag !== event);
    if (kept.length === this.#entries.length) {
      return { status: false, comment: "Reactor does not exists." };
    }
    this.#entries = kept;
    return { status: true, comment: "Reactor deleted." };
  }

  /** Whether this reactor reacts (Salt's `is_leader`). */
  get leader(): boolean {
    return this.#leader;
  }

  /** Sets {@linkcode Reactor.leader} (Salt's `set_leader`). */
  set leader(value: boolean) {
    this.#leader = value;
  }
}

function withKwargs(arg: unknown[], kwarg: Record<string, unknown>): unknown[] {
  return Object.keys(kwarg).length > 0 ? [...arg, { ...kwarg, __kwarg__: true }] : [...arg];
}

function numberOption(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : fallback;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
