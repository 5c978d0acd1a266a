"use strict";
/**
 * nxuskit for Node.js: credentials for LLM providers, resolved by nxuskitd.
 *
 * ```ts
 * import { authStatus, authSetCredential, authResolve } from "nxuskit";
 *
 * const status = await authStatus("openai");          // status.status, status.source
 * await authSetCredential("openai", "sk-...");        // stored by the daemon
 * const resolution = await authResolve("openai");     // explicit > OPENAI_API_KEY > store
 * resolution.secret; resolution.source;               // "sk-...", "store"
 * ```
 *
 * The functions use one default `Client` per process. Errors are subclasses of
 * `NxuskitError`. No runtime dependencies: `node:net`, `node:fs` and friends only.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.normalizeName = exports.PROTOCOL_VERSION = exports.errorFromWire = exports.VersionMismatch = exports.UnknownProvider = exports.StoreUnavailable = exports.ProtocolError = exports.PermissionDenied = exports.NxuskitError = exports.NotAuthenticated = exports.LoginFailed = exports.InvalidArgument = exports.DaemonUnavailable = exports.DaemonBusy = exports.ConfigError = exports.timeoutFromEnv = exports.DEFAULT_TIMEOUT = exports.Client = exports.Resolution = exports.AuthStatus = void 0;
exports.defaultClient = defaultClient;
exports.setDefaultClient = setDefaultClient;
exports.authStatus = authStatus;
exports.authStatusAll = authStatusAll;
exports.authSetCredential = authSetCredential;
exports.authResolve = authResolve;
exports.authRemoveCredential = authRemoveCredential;
const client_1 = require("./client");
var answers_1 = require("./answers");
Object.defineProperty(exports, "AuthStatus", { enumerable: true, get: function () { return answers_1.AuthStatus; } });
Object.defineProperty(exports, "Resolution", { enumerable: true, get: function () { return answers_1.Resolution; } });
var client_2 = require("./client");
Object.defineProperty(exports, "Client", { enumerable: true, get: function () { return client_2.Client; } });
Object.defineProperty(exports, "DEFAULT_TIMEOUT", { enumerable: true, get: function () { return client_2.DEFAULT_TIMEOUT; } });
Object.defineProperty(exports, "timeoutFromEnv", { enumerable: true, get: function () { return client_2.timeoutFromEnv; } });
var errors_1 = require("./errors");
Object.defineProperty(exports, "ConfigError", { enumerable: true, get: function () { return errors_1.ConfigError; } });
Object.defineProperty(exports, "DaemonBusy", { enumerable: true, get: function () { return errors_1.DaemonBusy; } });
Object.defineProperty(exports, "DaemonUnavailable", { enumerable: true, get: function () { return errors_1.DaemonUnavailable; } });
Object.defineProperty(exports, "InvalidArgument", { enumerable: true, get: function () { return errors_1.InvalidArgument; } });
Object.defineProperty(exports, "LoginFailed", { enumerable: true, get: function () { return errors_1.LoginFailed; } });
Object.defineProperty(exports, "NotAuthenticated", { enumerable: true, get: function () { return errors_1.NotAuthenticated; } });
Object.defineProperty(exports, "NxuskitError", { enumerable: true, get: function () { return errors_1.NxuskitError; } });
Object.defineProperty(exports, "PermissionDenied", { enumerable: true, get: function () { return errors_1.PermissionDenied; } });
Object.defineProperty(exports, "ProtocolError", { enumerable: true, get: function () { return errors_1.ProtocolError; } });
Object.defineProperty(exports, "StoreUnavailable", { enumerable: true, get: function () { return errors_1.StoreUnavailable; } });
Object.defineProperty(exports, "UnknownProvider", { enumerable: true, get: function () { return errors_1.UnknownProvider; } });
Object.defineProperty(exports, "VersionMismatch", { enumerable: true, get: function () { return errors_1.VersionMismatch; } });
Object.defineProperty(exports, "errorFromWire", { enumerable: true, get: function () { return errors_1.errorFromWire; } });
var protocol_1 = require("./protocol");
Object.defineProperty(exports, "PROTOCOL_VERSION", { enumerable: true, get: function () { return protocol_1.PROTOCOL_VERSION; } });
var registry_1 = require("./registry");
Object.defineProperty(exports, "normalizeName", { enumerable: true, get: function () { return registry_1.normalizeName; } });
let defaultInstance;
/** The per-process Client the package functions use. */
function defaultClient() {
    defaultInstance ??= new client_1.Client();
    return defaultInstance;
}
/**
 * Make `client` the one the package functions use (undefined: a new default on next
 * use). The previous default's connection is closed.
 */
function setDefaultClient(client) {
    const previous = defaultInstance;
    defaultInstance = client;
    if (previous !== undefined && previous !== client) {
        previous.close();
    }
}
/** `provider`'s status: authenticated or not, from which source (`Client.authStatus`). */
function authStatus(provider, apiKey) {
    return defaultClient().authStatus(provider, apiKey);
}
/** Every usable provider's status, in registry order (`Client.authStatusAll`). */
function authStatusAll() {
    return defaultClient().authStatusAll();
}
/** Store `secret` as `provider`'s API key (`Client.authSetCredential`). */
function authSetCredential(provider, secret) {
    return defaultClient().authSetCredential(provider, secret);
}
/** Resolve `provider`'s credential: `apiKey`, its env variable, the store (`Client.authResolve`). */
function authResolve(provider, apiKey) {
    return defaultClient().authResolve(provider, apiKey);
}
/** Remove `provider`'s stored credential; true if one was stored (`Client.authRemoveCredential`). */
function authRemoveCredential(provider) {
    return defaultClient().authRemoveCredential(provider);
}
