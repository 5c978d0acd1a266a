/**
 * The wire contract with nxuskitd, in one place (docs/protocol.md is its prose version;
 * client/nxuskit/protocol.py is the Python client's copy of the same names).
 *
 * JSON-RPC 2.0, one compact UTF-8 JSON object per `\n`-terminated line, over a Unix
 * domain socket.
 */
/** The protocol version this client speaks (`daemon.hello`). */
export declare const PROTOCOL_VERSION = 1;
/** The oldest daemon protocol this client works with. */
export declare const MIN_PROTOCOL_VERSION = 1;
/** The longest request line the daemon accepts, newline included. */
export declare const MAX_MESSAGE_BYTES: number;
/** The longest answer line this client reads (answers have no cap on the wire). */
export declare const MAX_ANSWER_BYTES: number;
/** The longest secret `auth.set_credential` accepts (UTF-8 bytes). */
export declare const MAX_SECRET_BYTES: number;
export declare const HELLO = "daemon.hello";
export declare const DAEMON_STATUS = "daemon.status";
export declare const RESOLVE = "auth.resolve";
export declare const STATUS = "auth.status";
export declare const SET_CREDENTIAL = "auth.set_credential";
export declare const REMOVE_CREDENTIAL = "auth.remove_credential";
export declare const PROVIDER_LIST = "provider.list";
/**
 * Methods that may be sent again when the connection closed before their answer came:
 * running them twice leaves the same state (section 2 of docs/protocol.md). Never
 * `auth.login_start` or `auth.report_invalid`.
 */
export declare const RETRY_SAFE: ReadonlySet<string>;
/** Values of `source`: where a credential came from. */
export type Source = "explicit" | "env" | "store" | "oauth";
/** Values of `status`; an unknown one from a newer daemon counts as not authenticated. */
export type StatusValue = "authenticated" | "not_authenticated" | "not_required" | "config_invalid";
/** Values of `auth_method`. */
export type AuthMethod = "api_key" | "oauth" | "none";
