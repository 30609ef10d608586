/**
 * Reading a YAML file as Salt does (YAML 1.1: `True`, `yes`, `on`), with one
 * error for both ways it can fail: unreadable, or not YAML.
 *
 * @module
 */
import { parsePythonYaml } from "./python_yaml.ts";
import { ConfigError } from "./errors.ts";
import { permissionError } from "./permission.ts";

/** A YAML file could not be read, or is not valid YAML. */
export class YamlFileError extends ConfigError {
  /** The file. */
  readonly file: string;

  /** Creates the error for `file`. */
  constructor(message: string, file: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "YamlFileError";
    this.file = file;
  }
}

/**
 * Reads and parses `file`; an empty file is `null`. `what` names the file
 * in messages (`"config file"`, `"roster file"`).
 *
 * @throws {PermissionError} when Deno refuses to read it (naming the flag).
 * @throws {YamlFileError} `cannot read <what> <file>: …` or
 * `<what> <file> is not valid YAML: …`.
 * @example
 * ```ts
 * import { readYamlFile } from "./yaml_file.ts";
 * const config = await readYamlFile("/etc/salt/master", "config file");
 * ```
 */
export async function readYamlFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw permissionError(err, `reading ${what} ${file}`) ??
      new YamlFileError(`cannot read ${what} ${file}: ${messageOf(err)}`, file, { cause: err });
  }
  try {
    return parsePythonYaml(text);
  } catch (err) {
    throw permissionError(err, `reading ${what} ${file}`) ??
      new YamlFileError(
        `${what} ${file} is not valid YAML: ${messageOf(err).split("\n")[0]}`,
        file,
        { cause: err },
      );
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
