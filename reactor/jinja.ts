/**
 * Jinja for reaction files, on `npm:@huggingface/jinja` (Python-style
 * methods such as `data.get('x', 'd')` and `tag.startswith(…)` work as in
 * Salt), with Salt's `json` and `yaml` filters added (`json` is
 * `json.dumps`, `yaml` is a flow-style YAML dump, as Salt's
 * `SerializerExtension`).
 *
 * @module
 */
import { Interpreter, Template } from "npm:@huggingface/jinja@0.5.11";
import { stringify } from "npm:yaml@2.9.1";

/** A reaction file's Jinja could not be parsed or rendered. */
export class JinjaRenderError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JinjaRenderError";
  }
}

type FilterNode = { type: string; value?: unknown };
type ApplyFilter = (operand: unknown, node: FilterNode, env: unknown) => { value: unknown };

let patched = false;

/** Adds Salt's `json` and `yaml` filters to the interpreter (once). */
function addSaltFilters(): void {
  if (patched) return;
  patched = true;
  const proto = Interpreter.prototype as unknown as { applyFilter: ApplyFilter };
  const original = proto.applyFilter;
  proto.applyFilter = function (this: unknown, operand, node, env) {
    if (node.type === "Identifier" && (node.value === "json" || node.value === "yaml")) {
      const json = original.call(this, operand, { ...node, value: "tojson" }, env);
      if (node.value === "yaml") {
        const dumped = stringify(JSON.parse(String(json.value)), {
          collectionStyle: "flow",
          version: "1.1",
        });
        json.value = dumped.replace(/\n$/, "");
      }
      return json;
    }
    return original.call(this, operand, node, env);
  };
}

/** Compiled templates by source text (reaction files render once per event). */
const compiled = new Map<string, Template>();
const COMPILED_MAX = 256;

/**
 * Renders Jinja `source` with `context` (for reactions: `tag` and `data`).
 *
 * @throws {JinjaRenderError} for a syntax error or a failing expression.
 * @example
 * ```ts
 * import { renderJinja } from "./jinja.ts";
 * renderJinja("id: {{ data.get('id', 'none') }}", { tag: "t", data: {} }); // "id: none"
 * ```
 */
export function renderJinja(source: string, context: Record<string, unknown>): string {
  addSaltFilters();
  try {
    let template = compiled.get(source);
    if (template === undefined) {
      template = new Template(source);
      if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value as string);
      compiled.set(source, template);
    }
    return template.render(context);
  } catch (err) {
    throw new JinjaRenderError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
