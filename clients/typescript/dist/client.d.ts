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
import { AuthStatus, Resolution } from "./answers";
import { type Environment } from "./paths";
import { Registry } from "./registry";
import type { Transport } from "./transport";
/** Seconds to wait for an answer when neither `timeout` nor `NXUSKIT_TIMEOUT` says. */
export declare const DEFAULT_TIMEOUT = 30;
/** How a Client opens a connection (a test passes an in-memory daemon). */
export type Connect = (path: string, timeoutMs: number) => Promise<Transport>;
/** Options of a `Client`; every one has a default. */
export interface ClientOptions {
    /** The daemon's socket (default: `NXUSKIT_SOCKET`, or the runtime directory's). */
    socketPath?: string;
    /** Start the daemon when none runs (default: unless `NXUSKIT_AUTOSTART=0`). */
    autostart?: boolean;
    /** Seconds to wait for an answer (default: `NXUSKIT_TIMEOUT`, or 30). */
    timeout?: number;
    /** The environment to read provider variables and settings from (default: `process.env`). */
    env?: Environment;
    /** What starts the daemon (default: `nxuskit-cli daemon start`; see the README). */
    startCommand?: readonly string[];
    /** The transport (default: a verified Unix socket connection). */
    connect?: Connect;
}
/** `NXUSKIT_TIMEOUT` in seconds, else `DEFAULT_TIMEOUT`; InvalidArgument when malformed. */
export declare function timeoutFromEnv(env?: Environment): number;
/** A connection to nxuskitd, and the credential API over it. */
export declare class Client {
    readonly socketPath: string | undefined;
    readonly autostart: boolean | undefined;
    readonly timeout: number | undefined;
    private readonly env;
    private readonly startCommand;
    private readonly connect;
    private connection;
    private connectionPath;
    private opening;
    private registryCache;
    private readonly reuse;
    /** Throws InvalidArgument for a `timeout` that is not a positive number of seconds. */
    constructor(options?: ClientOptions);
    /** The socket this client talks to (now). */
    path(): string;
    /**
     * Send one JSON-RPC request and return its result. Throws the NxuskitError the daemon
     * answered with, or DaemonUnavailable.
     */
    call(method: string, params?: Record<string, unknown>): Promise<unknown>;
    /** Close the connection (the next call opens a new one) and forget reusable answers. */
    close(): void;
    private drop;
    private current;
    private open;
    /**
     * The registry: the built-ins, or, when config.toml exists, what `provider.list` says
     * (asked again when the file changes).
     */
    registry(): Promise<Registry>;
    /** Whether `registry` is still the one config.toml (or its absence) gives: one stat. */
    private registryCurrent;
    private fromEnv;
    /**
     * Resolve `provider`'s credential: `apiKey` when given (non-empty), else its
     * environment variable, else the daemon's store. A repeated resolve of the same name
     * may be answered from memory, exactly as fresh as asking (README, "The client cache").
     *
     * Throws UnknownProvider, ConfigError, NotAuthenticated (nothing anywhere), and when
     * the store is asked DaemonUnavailable, StoreUnavailable, PermissionDenied,
     * VersionMismatch.
     */
    authResolve(provider: string, apiKey?: string | null): Promise<Resolution>;
    /**
     * `provider`'s status by the same precedence; the daemon is asked only when neither
     * `apiKey` nor the environment decides it. Throws as `authResolve`, never
     * NotAuthenticated.
     */
    authStatus(provider: string, apiKey?: string | null): Promise<AuthStatus>;
    /** Every usable provider's status, in registry order (one round trip). */
    authStatusAll(): Promise<AuthStatus[]>;
    private statuses;
    private statusOf;
    /**
     * Store `secret` as `provider`'s API key in the daemon's store. Surrounding spaces,
     * tabs and line breaks are trimmed. Throws UnknownProvider, InvalidArgument (empty,
     * too long, a control character or lone surrogate inside, a provider without API
     * keys), DaemonUnavailable, StoreUnavailable.
     */
    authSetCredential(provider: string, secret: string): Promise<void>;
    /**
     * Remove `provider`'s stored credential; true if one was stored. `provider` may also be
     * the exact stored name of a provider config.toml no longer defines (an orphan).
     * Throws UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
     */
    authRemoveCredential(provider: string): Promise<boolean>;
    /** The daemon's `daemon.status` answer (pid, version, socket, started_by, store, ...). */
    daemonStatus(): Promise<Record<string, unknown>>;
}
