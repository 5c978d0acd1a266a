"use strict";
/**
 * The provider registry and how a name matches (docs/protocol.md section 7).
 *
 * The built-ins are embedded (`providers.ts`, a copy of clients/conformance/
 * providers.json). This client reads no TOML: when config.toml exists, the `Client`
 * asks the daemon with `provider.list`, which applies the file's trust rules, and
 * uses its entries instead.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.Registry = void 0;
exports.normalizeName = normalizeName;
exports.shownName = shownName;
exports.requiresAuth = requiresAuth;
exports.registryFromWire = registryFromWire;
const errors_1 = require("./errors");
const providers_1 = require("./providers");
const EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const ASCII_UPPER = /[A-Z]+/g;
/**
 * How every nxuskit client matches a provider name: surrounding ASCII spaces, tabs, CRs
 * and LFs are ignored, and ASCII letters match without regard to case. Nothing else
 * changes (no Unicode case folding, no other whitespace).
 */
function normalizeName(name) {
    return name.replace(EDGES, "").replace(ASCII_UPPER, (letters) => letters.toLowerCase());
}
/** `'name'` when it looks like a provider name; never echo what may be a key. */
function shownName(name) {
    return typeof name === "string" && /^[A-Za-z0-9._-]{0,24}$/.test(name)
        ? `'${name}'`
        : "(that name)";
}
/** Whether a provider needs a credential at all (local ones do not). */
function requiresAuth(entry) {
    return entry.auth_methods.length > 0;
}
/** Providers by name and alias; `broken` are config.toml entries that are wrong. */
class Registry {
    source;
    configError;
    byName = new Map();
    broken = new Map();
    /**
     * `entries` as `provider.list` gives them (an entry with a non-null `error` is a wrong
     * config.toml table); `configError` says why config.toml as a whole is not used;
     * `source` is the config.toml path, named in messages.
     */
    constructor(entries, source, configError = null) {
        this.source = source;
        this.configError = configError;
        for (const entry of entries) {
            if (entry.error) {
                this.broken.set(entry.name, entry.error);
                continue;
            }
            for (const key of [entry.name, ...entry.aliases]) {
                this.byName.set(key, entry);
            }
        }
        for (const builtin of providers_1.BUILTIN) {
            const problem = this.broken.get(builtin.name);
            for (const alias of problem === undefined ? [] : builtin.aliases) {
                this.broken.set(alias, problem);
            }
        }
    }
    /** The usable providers, in registry order. */
    get providers() {
        return [...new Set(this.byName.values())];
    }
    /** The provider called `name` (or aliased so), or undefined. */
    find(name) {
        return typeof name === "string" ? this.byName.get(normalizeName(name)) : undefined;
    }
    /** The provider called `name`; throws ConfigError or UnknownProvider. */
    get(name) {
        const entry = this.find(name);
        if (entry !== undefined) {
            return entry;
        }
        const problem = typeof name === "string" ? this.broken.get(normalizeName(name)) : undefined;
        if (problem !== undefined) {
            throw new errors_1.ConfigError(problem);
        }
        if (this.configError !== null) {
            throw new errors_1.ConfigError(`${shownName(name)} is no built-in provider, and ${this.configError}`);
        }
        const known = this.providers.map((provider) => provider.name).join(", ");
        throw new errors_1.UnknownProvider(`unknown provider ${shownName(name)}: known providers are ${known}; ` +
            `add others in ${this.source}`);
    }
}
exports.Registry = Registry;
function isStringList(value) {
    return Array.isArray(value) && value.every((item) => typeof item === "string");
}
function optionalString(value) {
    return value === null || value === undefined || typeof value === "string";
}
function entryFromWire(value) {
    const entry = (typeof value === "object" && value !== null ? value : {});
    const fields = typeof entry.name === "string" &&
        isStringList(entry.aliases ?? []) &&
        isStringList(entry.auth_methods ?? []) &&
        ["display_name", "env", "host_env", "default_host", "api_path", "error"].every((field) => optionalString(entry[field]));
    if (!fields) {
        throw new errors_1.ProtocolError("the daemon's answer to provider.list has a malformed entry");
    }
    return {
        name: entry.name,
        display_name: entry.display_name ?? entry.name,
        aliases: entry.aliases ?? [],
        env: entry.env ?? null,
        host_env: entry.host_env ?? null,
        default_host: entry.default_host ?? null,
        auth_methods: entry.auth_methods ?? [],
        api_path: entry.api_path ?? "",
        error: entry.error ?? null,
    };
}
/** The registry `provider.list` describes (`source`: the config.toml path). */
function registryFromWire(result, source) {
    const body = (typeof result === "object" && result !== null ? result : {});
    if (!Array.isArray(body.providers)) {
        throw new errors_1.ProtocolError("the daemon's answer to provider.list lacks its 'providers' field");
    }
    const config = (typeof body.config === "object" && body.config !== null ? body.config : {});
    const path = typeof config.path === "string" ? config.path : source;
    const error = typeof config.error === "string" ? config.error : null;
    return new Registry(body.providers.map(entryFromWire), path, error);
}
