"use strict";
/**
 * What the credential functions return: a `Resolution` (holds the secret) and an
 * `AuthStatus` (never does).
 *
 * A Resolution keeps its secret in a private field behind a getter, so `util.inspect`
 * (and so `console.log`), `JSON.stringify`, `String()`, spreading and structuredClone
 * never show it: they show `'***'` or leave it out. Read it as `resolution.secret`.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.AuthStatus = exports.Resolution = void 0;
exports.resultObject = resultObject;
const errors_1 = require("./errors");
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");
function fail(method, detail) {
    throw new errors_1.ProtocolError(`the daemon's answer to ${method} ${detail}`);
}
function field(body, name, method, accepts, fallback) {
    if (!(name in body)) {
        return fallback !== undefined ? fallback : fail(method, `lacks its '${name}' field`);
    }
    return accepts(body[name]) ? body[name] : fail(method, `has a malformed '${name}'`);
}
/** The result object of `method`, or ProtocolError. */
function resultObject(value, method) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(method, "is not a JSON object");
    }
    return value;
}
const isString = (value) => typeof value === "string";
const isStringOrNull = (value) => value === null || typeof value === "string";
const isNumberOrNull = (value) => value === null || typeof value === "number";
const isStringList = (value) => Array.isArray(value) && value.every((item) => typeof item === "string");
/** A resolved credential: `secret` and where it came from (`source`). */
class Resolution {
    provider;
    source;
    authMethod;
    expiresAt;
    #secret;
    /**
     * `source` is "explicit", "env", "store" or "oauth" (null for a provider that needs
     * no credential, whose `secret` is null too); `authMethod` is "api_key", "oauth" or
     * "none"; `expiresAt` is a Unix time (seconds) for expiring tokens, else null.
     */
    constructor(provider, secret, source, authMethod, expiresAt = null) {
        this.provider = provider;
        this.source = source;
        this.authMethod = authMethod;
        this.expiresAt = expiresAt;
        this.#secret = secret;
    }
    /** The credential itself (null when the provider needs none). */
    get secret() {
        return this.#secret;
    }
    /** Decode an `auth.resolve` result; ProtocolError when it does not fit. */
    static fromWire(value, method = "auth.resolve") {
        const body = resultObject(value, method);
        return new Resolution(field(body, "provider", method, isString), field(body, "secret", method, isStringOrNull), field(body, "source", method, isStringOrNull), field(body, "auth_method", method, isString), field(body, "expires_at", method, isNumberOrNull, null));
    }
    /** Plain data without the secret (`'***'` in its place when there is one). */
    toJSON() {
        return {
            provider: this.provider,
            secret: this.#secret === null ? null : "***",
            source: this.source,
            authMethod: this.authMethod,
            expiresAt: this.expiresAt,
        };
    }
    toString() {
        const secret = this.#secret === null ? "null" : "'***'";
        return (`Resolution(provider='${this.provider}', secret=${secret}, source=` +
            `${this.source === null ? "null" : `'${this.source}'`}, authMethod='${this.authMethod}')`);
    }
    [inspectSymbol]() {
        return this.toString();
    }
}
exports.Resolution = Resolution;
/** Whether a provider is usable, from which source, with which methods (no secret). */
class AuthStatus {
    provider;
    status;
    source;
    authMethods;
    authMethod;
    expiresAt;
    displayName;
    error;
    /**
     * `status` is "authenticated", "not_authenticated" or "not_required" ("config_invalid"
     * for a wrong config.toml entry, with `error` saying why); `source` is the source that
     * would win a resolve now, or null; `authMethods` lists "api_key" and "oauth".
     */
    constructor(provider, status, source, authMethods, authMethod = null, expiresAt = null, displayName = null, error = null) {
        this.provider = provider;
        this.status = status;
        this.source = source;
        this.authMethods = authMethods;
        this.authMethod = authMethod;
        this.expiresAt = expiresAt;
        this.displayName = displayName;
        this.error = error;
    }
    /** True when a resolve would succeed (or no credential is needed). */
    get authenticated() {
        return this.status === "authenticated" || this.status === "not_required";
    }
    /** Decode one entry of an `auth.status` result; ProtocolError when it does not fit. */
    static fromWire(value, method = "auth.status") {
        const body = resultObject(value, method);
        return new AuthStatus(field(body, "provider", method, isString), field(body, "status", method, isString), field(body, "source", method, isStringOrNull), field(body, "auth_methods", method, isStringList), field(body, "auth_method", method, isStringOrNull, null), field(body, "expires_at", method, isNumberOrNull, null), field(body, "display_name", method, isStringOrNull, null), field(body, "error", method, isStringOrNull, null));
    }
}
exports.AuthStatus = AuthStatus;
