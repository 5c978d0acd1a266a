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
export declare class NxuskitError extends Error {
    /** The stable error kind (`data.kind` on the wire). */
    readonly kind: string;
    /** The JSON-RPC error code. */
    readonly code: number;
    constructor(message: string, kind?: string, code?: number);
    static readonly KIND: string;
    static readonly CODE: number;
    get name(): string;
    /** Plain data for logs: name, kind, code and message (never a secret). */
    toJSON(): {
        name: string;
        kind: string;
        code: number;
        message: string;
    };
}
/** No daemon answers on the socket; the message says how to start one. */
export declare class DaemonUnavailable extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The daemon refused the connection: it holds its maximum number of them. */
export declare class DaemonBusy extends DaemonUnavailable {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The daemon speaks an older protocol version than this client needs. */
export declare class VersionMismatch extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The provider name is neither built in nor defined in config.toml. */
export declare class UnknownProvider extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** No credential was found for a provider that needs one. */
export declare class NotAuthenticated extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The credential store cannot be used right now (locked, unreadable, corrupt, slow). */
export declare class StoreUnavailable extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The daemon is not this user's, refused this user, or a path is unsafe. */
export declare class PermissionDenied extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** A request refused as malformed (JSON-RPC "invalid params"). */
export declare class InvalidArgument extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** config.toml (or one provider's entry in it) is wrong; the message says where. */
export declare class ConfigError extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** An OAuth login or token refresh did not succeed; the message says why. */
export declare class LoginFailed extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The other side did not follow the wire contract. */
export declare class ProtocolError extends NxuskitError {
    static readonly KIND: string;
    static readonly CODE: number;
}
/** The matching error for a JSON-RPC error object; never throws. */
export declare function errorFromWire(error: unknown): NxuskitError;
