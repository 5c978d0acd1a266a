"use strict";
/**
 * `Client`: one connection to nxuskitd and the credential API over it.
 *
 * ```ts
 * const client = new Client();                  // the default socket, autostart allowed
 * const { secret, source } = await client.authResolve("openai");
 * client.close();
 * ```
 *
 * A Client opens its connection on first use (starting the daemon when none runs and
 * autostart is allowed), keeps it for later calls (concurrent calls are pipelined on
 * it), and opens a new one when the daemon went away. A request whose connection closed
 * before its answer is sent again once, and only when running it twice is harmless
 * (`RETRY_SAFE`). An idle connection does not keep the process alive.
 *
 * Precedence, highest first: the explicit key, the provider's environment variable in
 * this process, then the daemon's store (docs/protocol.md section 7). The first two are
 * applied here, without a round trip. The store's answers are reused while the daemon's
 * generation says they hold (`reuse.ts`, docs/protocol.md section 13).
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.Client = exports.DEFAULT_TIMEOUT = void 0;
exports.timeoutFromEnv = timeoutFromEnv;
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const answers_1 = require("./answers");
const autostart_1 = require("./autostart");
const connection_1 = require("./connection");
const errors_1 = require("./errors");
const paths_1 = require("./paths");
const protocol_1 = require("./protocol");
const providers_1 = require("./providers");
const registry_1 = require("./registry");
const reuse_1 = require("./reuse");
const secret_1 = require("./secret");
/** Seconds to wait for an answer when neither `timeout` nor `NXUSKIT_TIMEOUT` says. */
exports.DEFAULT_TIMEOUT = 30;
/** `NXUSKIT_TIMEOUT` in seconds, else `DEFAULT_TIMEOUT`; InvalidArgument when malformed. */
function timeoutFromEnv(env = process.env) {
    const raw = (env.NXUSKIT_TIMEOUT ?? "").trim();
    if (!raw) {
        return exports.DEFAULT_TIMEOUT;
    }
    const value = Number(raw);
    if (!(value > 0 && value < 86400)) {
        throw new errors_1.InvalidArgument(`NXUSKIT_TIMEOUT=${JSON.stringify(raw)}: give the seconds to wait, like 30`);
    }
    return value;
}
function fileStamp(path) {
    // ctime, mode and owner too: a chmod or chown changes whether the daemon trusts it.
    const stats = (0, node_fs_1.statSync)(path, { throwIfNoEntry: false });
    if (stats === undefined) {
        return null;
    }
    return [
        stats.dev,
        stats.ino,
        stats.size,
        stats.mtimeMs,
        stats.ctimeMs,
        stats.mode,
        stats.uid,
        stats.gid,
    ].join(":");
}
/** A connection to nxuskitd, and the credential API over it. */
class Client {
    socketPath;
    autostart;
    timeout;
    env;
    startCommand;
    connect;
    connection;
    connectionPath = "";
    opening;
    registryCache;
    reuse;
    /** Throws InvalidArgument for a `timeout` that is not a positive number of seconds. */
    constructor(options = {}) {
        if (options.timeout !== undefined && !(options.timeout > 0 && options.timeout < 86400)) {
            throw new errors_1.InvalidArgument(`timeout ${options.timeout}: give the seconds to wait, like 30`);
        }
        this.socketPath = options.socketPath === undefined ? undefined : (0, node_path_1.resolve)(options.socketPath);
        this.autostart = options.autostart;
        this.timeout = options.timeout;
        this.env = options.env ?? process.env;
        this.startCommand = options.startCommand;
        this.connect = options.connect ?? connection_1.openConnection;
        this.reuse = new reuse_1.ReuseCache({
            env: this.env,
            socketPath: () => this.path(),
            registryCurrent: (registry) => this.registryCurrent(registry),
        });
    }
    /** The socket this client talks to (now). */
    path() {
        return this.socketPath ?? (0, paths_1.socketPath)(this.env);
    }
    /**
     * Send one JSON-RPC request and return its result. Throws the NxuskitError the daemon
     * answered with, or DaemonUnavailable.
     */
    async call(method, params = {}) {
        for (let attempt = 1;; attempt++) {
            const connection = await this.current();
            try {
                return await connection.call(method, params);
            }
            catch (error) {
                if (!(error instanceof connection_1.Closed)) {
                    throw error;
                }
                this.drop(connection);
                if (attempt === 2 || !protocol_1.RETRY_SAFE.has(method)) {
                    throw new errors_1.DaemonUnavailable(`nxuskitd at ${this.connectionPath} closed the connection before answering ` +
                        `${method}; see its log`);
                }
            }
        }
    }
    /** Close the connection (the next call opens a new one) and forget reusable answers. */
    close() {
        const connection = this.connection;
        this.connection = undefined;
        connection?.close();
        this.reuse.clear();
    }
    drop(connection) {
        if (this.connection === connection) {
            this.connection = undefined;
        }
        connection.close();
    }
    async current() {
        const path = this.path();
        const connection = this.connection;
        if (connection !== undefined && !connection.closed && this.connectionPath === path) {
            return connection;
        }
        if (this.opening === undefined) {
            this.opening = this.open(path).finally(() => {
                this.opening = undefined;
            });
        }
        return this.opening;
    }
    async open(path) {
        const timeoutMs = (this.timeout ?? timeoutFromEnv(this.env)) * 1000;
        let connection;
        try {
            connection = await this.connect(path, timeoutMs);
        }
        catch (error) {
            if (!(error instanceof connection_1.NotRunning)) {
                throw error;
            }
            if (!(this.autostart ?? (0, autostart_1.autostartEnabled)(this.env))) {
                const why = this.autostart === false ? "" : " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)";
                throw new errors_1.DaemonUnavailable(`nxuskitd is not running at ${path}${why}: start it with \`nxuskit-cli daemon ` +
                    "start` or `nxuskitd` (or `nxuskit-cli daemon install` for a service)");
            }
            await (0, autostart_1.startDaemon)(path, this.env, this.startCommand);
            try {
                connection = await this.connect(path, timeoutMs);
            }
            catch (again) {
                if (again instanceof connection_1.NotRunning) {
                    throw new errors_1.DaemonUnavailable(`nxuskitd started but does not answer at ${path}`);
                }
                throw again;
            }
        }
        this.connection?.close();
        this.connection = connection;
        this.connectionPath = path;
        return connection;
    }
    /**
     * The registry: the built-ins, or, when config.toml exists, what `provider.list` says
     * (asked again when the file changes).
     */
    async registry() {
        const path = (0, paths_1.configPath)(this.env);
        const stamp = fileStamp(path);
        const cached = this.registryCache;
        if (cached !== undefined && cached.path === path && cached.stamp === stamp) {
            return cached.registry;
        }
        const registry = stamp === null
            ? new registry_1.Registry(providers_1.BUILTIN, path)
            : (0, registry_1.registryFromWire)(await this.call(protocol_1.PROVIDER_LIST, {}), path);
        // A file the daemon refused is looked at again next time: the fix may be elsewhere.
        this.registryCache = registry.configError === null ? { path, stamp, registry } : undefined;
        return registry;
    }
    /** Whether `registry` is still the one config.toml (or its absence) gives: one stat. */
    registryCurrent(registry) {
        const cached = this.registryCache;
        const path = (0, paths_1.configPath)(this.env);
        return (cached !== undefined &&
            cached.registry === registry &&
            cached.path === path &&
            cached.stamp === fileStamp(path));
    }
    fromEnv(entry) {
        const value = entry.env === null ? undefined : this.env[entry.env];
        return value ? value : undefined;
    }
    /**
     * Resolve `provider`'s credential: `apiKey` when given (non-empty), else its
     * environment variable, else the daemon's store. A repeated resolve of the same name
     * may be answered from memory, exactly as fresh as asking (README, "The client cache").
     *
     * Throws UnknownProvider, ConfigError, NotAuthenticated (nothing anywhere), and when
     * the store is asked DaemonUnavailable, StoreUnavailable, PermissionDenied,
     * VersionMismatch.
     */
    async authResolve(provider, apiKey) {
        const explicit = typeof apiKey === "string" && apiKey !== "";
        const kept = explicit ? undefined : this.reuse.get(provider);
        if (kept !== undefined) {
            return kept;
        }
        const registry = await this.registry();
        const entry = registry.get(provider);
        if (!(0, registry_1.requiresAuth)(entry)) {
            return new answers_1.Resolution(entry.name, null, null, "none");
        }
        if (explicit) {
            return new answers_1.Resolution(entry.name, apiKey, "explicit", "api_key");
        }
        const value = this.fromEnv(entry);
        if (value !== undefined) {
            return new answers_1.Resolution(entry.name, value, "env", "api_key");
        }
        const params = { provider: entry.name };
        if ((0, reuse_1.cacheEnabled)(this.env)) {
            params.reuse = true; // the daemon grants leave only to clients that ask
        }
        const sent = (0, reuse_1.monotonic)();
        const result = await this.call(protocol_1.RESOLVE, params);
        const answer = answers_1.Resolution.fromWire(result, protocol_1.RESOLVE);
        this.reuse.keep(provider, registry, entry, answer, (0, reuse_1.leaveFromWire)(result), sent);
        return answer;
    }
    /**
     * `provider`'s status by the same precedence; the daemon is asked only when neither
     * `apiKey` nor the environment decides it. Throws as `authResolve`, never
     * NotAuthenticated.
     */
    async authStatus(provider, apiKey) {
        const entry = (await this.registry()).get(provider);
        if ((0, registry_1.requiresAuth)(entry) && typeof apiKey === "string" && apiKey !== "") {
            return this.statusOf(entry, null, "explicit");
        }
        if (!(0, registry_1.requiresAuth)(entry) || this.fromEnv(entry) !== undefined) {
            return this.statusOf(entry, null);
        }
        const entries = await this.statuses({ provider: entry.name });
        return this.statusOf(entry, entries.get(entry.name) ?? null);
    }
    /** Every usable provider's status, in registry order (one round trip). */
    async authStatusAll() {
        const registry = await this.registry();
        const entries = await this.statuses({});
        return registry.providers.map((entry) => this.statusOf(entry, entries.get(entry.name) ?? null));
    }
    async statuses(params) {
        const body = (0, answers_1.resultObject)(await this.call(protocol_1.STATUS, params), protocol_1.STATUS);
        if (!Array.isArray(body.providers)) {
            throw new errors_1.ProtocolError(`the daemon's answer to ${protocol_1.STATUS} lacks its 'providers' field`);
        }
        const entries = body.providers.map((item) => answers_1.AuthStatus.fromWire(item, protocol_1.STATUS));
        return new Map(entries.map((status) => [status.provider, status]));
    }
    statusOf(entry, stored, explicit) {
        const methods = [...entry.auth_methods];
        const name = entry.display_name;
        if (!(0, registry_1.requiresAuth)(entry)) {
            return new answers_1.AuthStatus(entry.name, "not_required", null, methods, null, null, name);
        }
        if (explicit !== undefined || this.fromEnv(entry) !== undefined) {
            return new answers_1.AuthStatus(entry.name, "authenticated", explicit ?? "env", methods, "api_key", null, name);
        }
        if (stored !== null && stored.status === "authenticated") {
            return new answers_1.AuthStatus(entry.name, "authenticated", stored.source, methods, stored.authMethod, stored.expiresAt, name);
        }
        return new answers_1.AuthStatus(entry.name, "not_authenticated", null, methods, null, null, name);
    }
    /**
     * Store `secret` as `provider`'s API key in the daemon's store. Surrounding spaces,
     * tabs and line breaks are trimmed. Throws UnknownProvider, InvalidArgument (empty,
     * too long, a control character or lone surrogate inside, a provider without API
     * keys), DaemonUnavailable, StoreUnavailable.
     */
    async authSetCredential(provider, secret) {
        const entry = (await this.registry()).get(provider);
        const params = { provider: entry.name, secret: (0, secret_1.checkSecret)(secret) };
        (0, answers_1.resultObject)(await this.call(protocol_1.SET_CREDENTIAL, params), protocol_1.SET_CREDENTIAL);
    }
    /**
     * Remove `provider`'s stored credential; true if one was stored. `provider` may also be
     * the exact stored name of a provider config.toml no longer defines (an orphan).
     * Throws UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
     */
    async authRemoveCredential(provider) {
        if (typeof provider !== "string") {
            throw new errors_1.InvalidArgument('the provider must be a name, like "openai"');
        }
        // An unknown name may be an orphan: only the daemon knows what is stored.
        const name = (await this.registry()).find(provider)?.name ?? provider;
        const body = (0, answers_1.resultObject)(await this.call(protocol_1.REMOVE_CREDENTIAL, { provider: name }), protocol_1.REMOVE_CREDENTIAL);
        if (typeof body.removed !== "boolean") {
            throw new errors_1.ProtocolError(`the daemon's answer to ${protocol_1.REMOVE_CREDENTIAL} has a malformed 'removed'`);
        }
        return body.removed;
    }
    /** The daemon's `daemon.status` answer (pid, version, socket, started_by, store, ...). */
    async daemonStatus() {
        return (0, answers_1.resultObject)(await this.call(protocol_1.DAEMON_STATUS, {}), protocol_1.DAEMON_STATUS);
    }
}
exports.Client = Client;
