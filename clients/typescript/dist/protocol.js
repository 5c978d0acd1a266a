"use strict";
/**
 * The wire contract with nxuskitd, in one place (docs/protocol.md is its prose version;
 * client/nxuskit/protocol.py is the Python client's copy of the same names).
 *
 * JSON-RPC 2.0, one compact UTF-8 JSON object per `\n`-terminated line, over a Unix
 * domain socket.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.RETRY_SAFE = exports.PROVIDER_LIST = exports.REMOVE_CREDENTIAL = exports.SET_CREDENTIAL = exports.STATUS = exports.RESOLVE = exports.DAEMON_STATUS = exports.HELLO = exports.MAX_SECRET_BYTES = exports.MAX_ANSWER_BYTES = exports.MAX_MESSAGE_BYTES = exports.MIN_PROTOCOL_VERSION = exports.PROTOCOL_VERSION = void 0;
/** The protocol version this client speaks (`daemon.hello`). */
exports.PROTOCOL_VERSION = 1;
/** The oldest daemon protocol this client works with. */
exports.MIN_PROTOCOL_VERSION = 1;
/** The longest request line the daemon accepts, newline included. */
exports.MAX_MESSAGE_BYTES = 64 * 1024;
/** The longest answer line this client reads (answers have no cap on the wire). */
exports.MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** The longest secret `auth.set_credential` accepts (UTF-8 bytes). */
exports.MAX_SECRET_BYTES = 16 * 1024;
exports.HELLO = "daemon.hello";
exports.DAEMON_STATUS = "daemon.status";
exports.RESOLVE = "auth.resolve";
exports.STATUS = "auth.status";
exports.SET_CREDENTIAL = "auth.set_credential";
exports.REMOVE_CREDENTIAL = "auth.remove_credential";
exports.PROVIDER_LIST = "provider.list";
/**
 * Methods that may be sent again when the connection closed before their answer came:
 * running them twice leaves the same state (section 2 of docs/protocol.md). Never
 * `auth.login_start` or `auth.report_invalid`.
 */
exports.RETRY_SAFE = new Set([
    exports.HELLO,
    exports.DAEMON_STATUS,
    exports.RESOLVE,
    exports.STATUS,
    exports.SET_CREDENTIAL,
    exports.REMOVE_CREDENTIAL,
    exports.PROVIDER_LIST,
    "daemon.lock",
    "store.migrate",
    "auth.login_wait",
    "auth.login_cancel",
    "auth.logout",
]);
