/**
 * What the credential functions return: a `Resolution` (holds the secret) and an
 * `AuthStatus` (never does).
 *
 * A Resolution keeps its secret in a private field behind a getter, so `util.inspect`
 * (and so `console.log`), `JSON.stringify`, `String()`, spreading and structuredClone
 * never show it: they show `'***'` or leave it out. Read it as `resolution.secret`.
 */

import { ProtocolError } from "./errors";
import type { AuthMethod, Source, StatusValue } from "./protocol";

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

function fail(method: string, detail: string): never {
  throw new ProtocolError(`the daemon's answer to ${method} ${detail}`);
}

function field<T>(
  body: Record<string, unknown>,
  name: string,
  method: string,
  accepts: (value: unknown) => boolean,
  fallback?: T,
): T {
  if (!(name in body)) {
    return fallback !== undefined ? fallback : fail(method, `lacks its '${name}' field`);
  }
  return accepts(body[name]) ? (body[name] as T) : fail(method, `has a malformed '${name}'`);
}

/** The result object of `method`, or ProtocolError. */
export function resultObject(value: unknown, method: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(method, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}

const isString = (value: unknown): boolean => typeof value === "string";
const isStringOrNull = (value: unknown): boolean => value === null || typeof value === "string";
const isNumberOrNull = (value: unknown): boolean => value === null || typeof value === "number";
const isStringList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

/** A resolved credential: `secret` and where it came from (`source`). */
export class Resolution {
  readonly #secret: string | null;

  /**
   * `source` is "explicit", "env", "store" or "oauth" (null for a provider that needs
   * no credential, whose `secret` is null too); `authMethod` is "api_key", "oauth" or
   * "none"; `expiresAt` is a Unix time (seconds) for expiring tokens, else null.
   */
  constructor(
    readonly provider: string,
    secret: string | null,
    readonly source: Source | null,
    readonly authMethod: AuthMethod,
    readonly expiresAt: number | null = null,
  ) {
    this.#secret = secret;
  }

  /** The credential itself (null when the provider needs none). */
  get secret(): string | null {
    return this.#secret;
  }

  /** Decode an `auth.resolve` result; ProtocolError when it does not fit. */
  static fromWire(value: unknown, method = "auth.resolve"): Resolution {
    const body = resultObject(value, method);
    return new Resolution(
      field<string>(body, "provider", method, isString),
      field<string | null>(body, "secret", method, isStringOrNull),
      field<Source | null>(body, "source", method, isStringOrNull),
      field<AuthMethod>(body, "auth_method", method, isString),
      field<number | null>(body, "expires_at", method, isNumberOrNull, null),
    );
  }

  /** Plain data without the secret (`'***'` in its place when there is one). */
  toJSON(): Record<string, unknown> {
    return {
      provider: this.provider,
      secret: this.#secret === null ? null : "***",
      source: this.source,
      authMethod: this.authMethod,
      expiresAt: this.expiresAt,
    };
  }

  toString(): string {
    const secret = this.#secret === null ? "null" : "'***'";
    return (
      `Resolution(provider='${this.provider}', secret=${secret}, source=` +
      `${this.source === null ? "null" : `'${this.source}'`}, authMethod='${this.authMethod}')`
    );
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** Whether a provider is usable, from which source, with which methods (no secret). */
export class AuthStatus {
  /**
   * `status` is "authenticated", "not_authenticated" or "not_required" ("config_invalid"
   * for a wrong config.toml entry, with `error` saying why); `source` is the source that
   * would win a resolve now, or null; `authMethods` lists "api_key" and "oauth".
   */
  constructor(
    readonly provider: string,
    readonly status: StatusValue,
    readonly source: Source | null,
    readonly authMethods: readonly string[],
    readonly authMethod: string | null = null,
    readonly expiresAt: number | null = null,
    readonly displayName: string | null = null,
    readonly error: string | null = null,
  ) {}

  /** True when a resolve would succeed (or no credential is needed). */
  get authenticated(): boolean {
    return this.status === "authenticated" || this.status === "not_required";
  }

  /** Decode one entry of an `auth.status` result; ProtocolError when it does not fit. */
  static fromWire(value: unknown, method = "auth.status"): AuthStatus {
    const body = resultObject(value, method);
    return new AuthStatus(
      field<string>(body, "provider", method, isString),
      field<StatusValue>(body, "status", method, isString),
      field<Source | null>(body, "source", method, isStringOrNull),
      field<string[]>(body, "auth_methods", method, isStringList),
      field<string | null>(body, "auth_method", method, isStringOrNull, null),
      field<number | null>(body, "expires_at", method, isNumberOrNull, null),
      field<string | null>(body, "display_name", method, isStringOrNull, null),
      field<string | null>(body, "error", method, isStringOrNull, null),
    );
  }
}
