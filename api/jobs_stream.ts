/**
 * The body of `GET /jobs`, streamed from the job cache: rest_cherrypy's
 * envelope `{"return": [{<jid>: <record>, …}]}` written a page of jobs at
 * a time, so that a cache of any size is never held in memory (Salt's
 * `jobs.list_jobs` loads it whole, #50931).
 *
 * @module
 */
import { pythonJsonDumps } from "../output/python_json.ts";
import { iterateJobs, type JobPagesOptions } from "../returners/sqlite_pages.ts";

/** Jobs written per chunk of the response. */
const CHUNK_JOBS = 500;

/**
 * A stream of `{"return": [{jid: record, …}]}` (Python's JSON separators)
 * over the `sqlite` job cache `opts` names. Opening the store fails before
 * the first byte, so the caller can answer an error status instead.
 *
 * @example
 * ```ts
 * import { jobsListStream } from "./jobs_stream.ts";
 * const body = jobsListStream({ node: "master", cachedir: "/var/cache/saltbus" });
 * const text = await new Response(body).text(); // '{"return": [{"2024…": {"Function": "test.ping", …}}]}'
 * ```
 */
export function jobsListStream(
  opts: { node: "master" | "minion"; cachedir?: unknown; sock_dir?: unknown },
  options: JobPagesOptions = {},
): ReadableStream<Uint8Array> {
  const jobs = iterateJobs(opts, options);
  const encoder = new TextEncoder();
  // Runs the generator to its first job (or its end): a store that cannot be opened throws here.
  let next = jobs.next();
  let first = true;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = first ? '{"return": [{' : "";
      for (let n = 0; n < CHUNK_JOBS && !next.done; n++) {
        const [jid, record] = next.value;
        text += `${first ? "" : ", "}${pythonJsonDumps(jid)}: ${pythonJsonDumps(record)}`;
        first = false;
        next = jobs.next();
      }
      if (next.done) {
        if (first) text = '{"return": [{';
        controller.enqueue(encoder.encode(text + "}]}"));
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(text));
    },
    cancel() {
      jobs.return(undefined);
    },
  }, { highWaterMark: 0 });
}
