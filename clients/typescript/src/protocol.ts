/**
 * The wire contract with nxuskitd, in one place (docs/protocol.md is its prose version;
 * client/nxuskit/protocol.py is the Python client's copy of the same names).
 *
 * JSON-RPC 2.0, one compact UTF-8 JSON object per `\n`-terminated line, over a Unix
 * domain socket.
 */

/** The protocol version this client speaks (`daemon.hello`). */
export const PROTOCOL_VERSION = 1;

/** The oldest daemon protocol this client works with. */
export const MIN_PROTOCOL_VERSION = 1;

/** The longest request line the daemon accepts, newline included. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** The longest answer line this client reads (answers have no cap on the wire). */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The longest secret `auth.set_credential` accepts (UTF-8 bytes). */
export const MAX_SECRET_BYTES = 16 * 1024;

export const HELLO = "daemon.hello";
export const DAEMON_STATUS = "daemon.status";
export const RESOLVE = "auth.resolve";
export const STATUS = "auth.status";
export const SET_CREDENTIAL = "auth.set_credential";
export const REMOVE_CREDENTIAL = "auth.remove_credential";
export const PROVIDER_LIST = "provider.list";

/**
 * Methods that may be sent again when the connection closed before their answer came:
 * running them twice leaves the same state (section 2 of docs/protocol.md). Never
 * `auth.login_start` or `auth.report_invalid`.
 */
export const RETRY_SAFE: ReadonlySet<string> = new Set([
  HELLO,
  DAEMON_STATUS,
  RESOLVE,
  STATUS,
  SET_CREDENTIAL,
  REMOVE_CREDENTIAL,
  PROVIDER_LIST,
  "daemon.lock",
  "store.migrate",
  "auth.login_wait",
  "auth.login_cancel",
  "auth.logout",
]);

/** Values of `source`: where a credential came from. */
export type Source = "explicit" | "env" | "store" | "oauth";

/** Values of `status`; an unknown one from a newer daemon counts as not authenticated. */
export type StatusValue = "authenticated" | "not_authenticated" | "not_required" | "config_invalid";

/** Values of `auth_method`. */
export type AuthMethod = "api_key" | "oauth" | "none";
