/**
 * The errors nxuskit raises: one small tree, the same as the Python client's.
 *
 * ```
 * NxuskitError            base: catch this to catch everything below
 * ├── DaemonUnavailable   no daemon answers on the socket (and autostart did not help)
 * │   └── DaemonBusy      the daemon is at its connection limit
 * ├── VersionMismatch     the daemon speaks an older protocol than this client
 * ├── UnknownProvider     no built-in or configured provider has that name
 * ├── NotAuthenticated    no credential: not given, not in the environment, not stored
 * ├── StoreUnavailable    the credential store cannot be read or written right now
 * ├── PermissionDenied    the daemon is not yours, or a path has unsafe ownership or mode
 * ├── InvalidArgument     a request the daemon (or this client) refuses as malformed
 * ├── ConfigError         config.toml is wrong; the message names the file and line
 * ├── LoginFailed         an OAuth login or token refresh failed
 * └── ProtocolError       the other side broke the wire contract (a bug, please report)
 * ```
 *
 * Every error has a stable `kind` (the wire's `data.kind`) and a JSON-RPC `code`.
 * A kind this client does not know becomes a plain `NxuskitError` that keeps the
 * wire's kind and code. Messages never contain a secret.
 */

/** Base class of every error nxuskit raises. */
export class NxuskitError extends Error {
  /** The stable error kind (`data.kind` on the wire). */
  readonly kind: string;
  /** The JSON-RPC error code. */
  readonly code: number;

  constructor(message: string, kind?: string, code?: number) {
    super(message);
    const own = new.target as unknown as { readonly KIND: string; readonly CODE: number };
    this.kind = kind ?? own.KIND;
    this.code = code ?? own.CODE;
  }

  static readonly KIND: string = "error";
  static readonly CODE: number = -32603;

  override get name(): string {
    return this.constructor.name;
  }

  /** Plain data for logs: name, kind, code and message (never a secret). */
  toJSON(): { name: string; kind: string; code: number; message: string } {
    return { name: this.name, kind: this.kind, code: this.code, message: this.message };
  }
}

/** No daemon answers on the socket; the message says how to start one. */
export class DaemonUnavailable extends NxuskitError {
  static override readonly KIND: string = "daemon_unavailable";
  static override readonly CODE: number = 1000;
}

/** The daemon refused the connection: it holds its maximum number of them. */
export class DaemonBusy extends DaemonUnavailable {
  static override readonly KIND: string = "daemon_busy";
  static override readonly CODE: number = 1008;
}

/** The daemon speaks an older protocol version than this client needs. */
export class VersionMismatch extends NxuskitError {
  static override readonly KIND: string = "version_mismatch";
  static override readonly CODE: number = 1001;
}

/** The provider name is neither built in nor defined in config.toml. */
export class UnknownProvider extends NxuskitError {
  static override readonly KIND: string = "unknown_provider";
  static override readonly CODE: number = 1002;
}

/** No credential was found for a provider that needs one. */
export class NotAuthenticated extends NxuskitError {
  static override readonly KIND: string = "not_authenticated";
  static override readonly CODE: number = 1003;
}

/** The credential store cannot be used right now (locked, unreadable, corrupt, slow). */
export class StoreUnavailable extends NxuskitError {
  static override readonly KIND: string = "store_unavailable";
  static override readonly CODE: number = 1004;
}

/** The daemon is not this user's, refused this user, or a path is unsafe. */
export class PermissionDenied extends NxuskitError {
  static override readonly KIND: string = "permission_denied";
  static override readonly CODE: number = 1005;
}

/** A request refused as malformed (JSON-RPC "invalid params"). */
export class InvalidArgument extends NxuskitError {
  static override readonly KIND: string = "invalid_params";
  static override readonly CODE: number = -32602;
}

/** config.toml (or one provider's entry in it) is wrong; the message says where. */
export class ConfigError extends NxuskitError {
  static override readonly KIND: string = "config_invalid";
  static override readonly CODE: number = 1006;
}

/** An OAuth login or token refresh did not succeed; the message says why. */
export class LoginFailed extends NxuskitError {
  static override readonly KIND: string = "login_failed";
  static override readonly CODE: number = 1010;
}

/** The other side did not follow the wire contract. */
export class ProtocolError extends NxuskitError {
  static override readonly KIND: string = "protocol_error";
  static override readonly CODE: number = -32603;
}

type ErrorClass = new (message: string) => NxuskitError;

const BY_KIND: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>(
  [
    DaemonUnavailable,
    DaemonBusy,
    VersionMismatch,
    UnknownProvider,
    NotAuthenticated,
    StoreUnavailable,
    PermissionDenied,
    InvalidArgument,
    ConfigError,
    LoginFailed,
    ProtocolError,
  ].map((cls) => [cls.KIND, cls]),
);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The matching error for a JSON-RPC error object; never throws. */
export function errorFromWire(error: unknown): NxuskitError {
  if (!isObject(error)) {
    return new ProtocolError("the daemon sent a malformed error object");
  }
  const message =
    typeof error.message === "string"
      ? error.message
      : "the daemon reported an error without a message";
  const kind = isObject(error.data) ? error.data.kind : undefined;
  const cls = typeof kind === "string" ? BY_KIND.get(kind) : undefined;
  if (cls !== undefined) {
    return new cls(message);
  }
  const code = typeof error.code === "number" ? error.code : undefined;
  if (code === InvalidArgument.CODE) {
    return new InvalidArgument(message);
  }
  return new NxuskitError(message, typeof kind === "string" ? kind : undefined, code);
}
