"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.ProtocolError = exports.LoginFailed = exports.ConfigError = exports.InvalidArgument = exports.PermissionDenied = exports.StoreUnavailable = exports.NotAuthenticated = exports.UnknownProvider = exports.VersionMismatch = exports.DaemonBusy = exports.DaemonUnavailable = exports.NxuskitError = void 0;
exports.errorFromWire = errorFromWire;
/** Base class of every error nxuskit raises. */
class NxuskitError extends Error {
    /** The stable error kind (`data.kind` on the wire). */
    kind;
    /** The JSON-RPC error code. */
    code;
    constructor(message, kind, code) {
        super(message);
        const own = new.target;
        this.kind = kind ?? own.KIND;
        this.code = code ?? own.CODE;
    }
    static KIND = "error";
    static CODE = -32603;
    get name() {
        return this.constructor.name;
    }
    /** Plain data for logs: name, kind, code and message (never a secret). */
    toJSON() {
        return { name: this.name, kind: this.kind, code: this.code, message: this.message };
    }
}
exports.NxuskitError = NxuskitError;
/** No daemon answers on the socket; the message says how to start one. */
class DaemonUnavailable extends NxuskitError {
    static KIND = "daemon_unavailable";
    static CODE = 1000;
}
exports.DaemonUnavailable = DaemonUnavailable;
/** The daemon refused the connection: it holds its maximum number of them. */
class DaemonBusy extends DaemonUnavailable {
    static KIND = "daemon_busy";
    static CODE = 1008;
}
exports.DaemonBusy = DaemonBusy;
/** The daemon speaks an older protocol version than this client needs. */
class VersionMismatch extends NxuskitError {
    static KIND = "version_mismatch";
    static CODE = 1001;
}
exports.VersionMismatch = VersionMismatch;
/** The provider name is neither built in nor defined in config.toml. */
class UnknownProvider extends NxuskitError {
    static KIND = "unknown_provider";
    static CODE = 1002;
}
exports.UnknownProvider = UnknownProvider;
/** No credential was found for a provider that needs one. */
class NotAuthenticated extends NxuskitError {
    static KIND = "not_authenticated";
    static CODE = 1003;
}
exports.NotAuthenticated = NotAuthenticated;
/** The credential store cannot be used right now (locked, unreadable, corrupt, slow). */
class StoreUnavailable extends NxuskitError {
    static KIND = "store_unavailable";
    static CODE = 1004;
}
exports.StoreUnavailable = StoreUnavailable;
/** The daemon is not this user's, refused this user, or a path is unsafe. */
class PermissionDenied extends NxuskitError {
    static KIND = "permission_denied";
    static CODE = 1005;
}
exports.PermissionDenied = PermissionDenied;
/** A request refused as malformed (JSON-RPC "invalid params"). */
class InvalidArgument extends NxuskitError {
    static KIND = "invalid_params";
    static CODE = -32602;
}
exports.InvalidArgument = InvalidArgument;
/** config.toml (or one provider's entry in it) is wrong; the message says where. */
class ConfigError extends NxuskitError {
    static KIND = "config_invalid";
    static CODE = 1006;
}
exports.ConfigError = ConfigError;
/** An OAuth login or token refresh did not succeed; the message says why. */
class LoginFailed extends NxuskitError {
    static KIND = "login_failed";
    static CODE = 1010;
}
exports.LoginFailed = LoginFailed;
/** The other side did not follow the wire contract. */
class ProtocolError extends NxuskitError {
    static KIND = "protocol_error";
    static CODE = -32603;
}
exports.ProtocolError = ProtocolError;
const BY_KIND = new Map([
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
].map((cls) => [cls.KIND, cls]));
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
/** The matching error for a JSON-RPC error object; never throws. */
function errorFromWire(error) {
    if (!isObject(error)) {
        return new ProtocolError("the daemon sent a malformed error object");
    }
    const message = typeof error.message === "string"
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
