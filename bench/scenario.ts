/**
 * What a benchmark scenario is, and the figures it reports.
 *
 * @module
 */

/** One measured figure. */
export interface Figure {
  /** Scenario it belongs to. */
  scenario: string;
  /** What was measured. */
  name: string;
  /** The value (NaN when it could not be measured). */
  value: number | string | boolean;
  /** Unit of `value`. */
  unit: string;
  /** Target, as text. */
  target?: string;
  /** Whether the target is met (undefined when there is none). */
  ok?: boolean;
}

/** Adds figures to the results of the running scenario. */
export type Add = (figure: Omit<Figure, "scenario">) => void;

/** One benchmark scenario. */
export interface Scenario {
  /** Its `--only` name. */
  name: string;
  /** What it measures. */
  title: string;
  /** Time limit. */
  timeoutMs: number;
  /** Runs it, adding figures and notes. */
  run(add: Add, notes: string[]): Promise<void>;
}
