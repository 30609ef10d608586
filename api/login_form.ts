/**
 * The body of `POST /login` in salt-api's content types (§16.3
 * `hypermedia_in`): `application/json`, `application/x-www-form-urlencoded`,
 * `application/x-yaml` and `text/yaml`. Anything else is refused with
 * salt-api's 406 `Content type not supported`; saltbus does not take
 * `text/plain` (which salt-api parses as JSON) or multipart, so a
 * cross-site form cannot post a login.
 *
 * @module
 */
import { parse as parseYaml } from "npm:yaml@2.9.1";
import { SaltbusError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";

/** The content types `/login` accepts. */
export const LOGIN_CONTENT_TYPES: readonly string[] = Object.freeze([
  "application/json",
  "application/x-www-form-urlencoded",
  "application/x-yaml",
  "text/yaml",
]);

/**
 * A login body that cannot be used: `status` 406 (content type), 400
 * (does not parse, or is not a mapping).
 *
 * @example
 * ```ts
 * import { LoginFormError } from "./login_form.ts";
 * console.log(new LoginFormError(406, "Content type not supported").status); // 406
 * ```
 */
export class LoginFormError extends SaltbusError {
  /** The HTTP status to answer. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LoginFormError";
    this.status = status;
  }
}

/** The media type of a `Content-Type` value, lower case, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Whether `/login` takes this `Content-Type` (checked before the body is read).
 *
 * @example
 * ```ts
 * import { acceptsLoginType } from "./login_form.ts";
 * acceptsLoginType("application/json; charset=utf-8"); // true
 * acceptsLoginType("text/plain"); // false
 * ```
 */
export function acceptsLoginType(contentType: string | null): boolean {
  return LOGIN_CONTENT_TYPES.includes(mediaType(contentType));
}

/**
 * Parses a login body already read (`bytes`) by its content type.
 *
 * @throws {LoginFormError} 406 for another content type, 400 for a body
 * that does not parse (`Invalid JSON document`, `Invalid YAML document`)
 * or is not a mapping.
 * @example
 * ```ts
 * import { parseLoginForm } from "./login_form.ts";
 * const bytes = new TextEncoder().encode("username=alice&password=pw&eauth=saltbus");
 * parseLoginForm("application/x-www-form-urlencoded", bytes).username; // "alice"
 * ```
 */
export function parseLoginForm(
  contentType: string | null,
  bytes: Uint8Array,
): Record<string, unknown> {
  const type = mediaType(contentType);
  if (!LOGIN_CONTENT_TYPES.includes(type)) {
    throw new LoginFormError(
      406,
      `Content type not supported: send ${LOGIN_CONTENT_TYPES.join(", ")}`,
    );
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    throw new LoginFormError(400, "send username, password and eauth");
  }
  let body: unknown;
  if (type === "application/x-www-form-urlencoded") {
    body = Object.fromEntries(new URLSearchParams(text));
  } else if (type === "application/json") {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new LoginFormError(400, "Invalid JSON document", { cause: err });
    }
  } else {
    try {
      body = parseYaml(text, { version: "1.1", maxAliasCount: 10 });
    } catch (err) {
      throw new LoginFormError(400, "Invalid YAML document", { cause: err });
    }
  }
  if (!isMapping(body)) {
    throw new LoginFormError(400, "send username, password and eauth as a mapping");
  }
  return body as Record<string, unknown>;
}
