/**
 * Resolves answered from the client's memory, never staler than asking
 * (docs/protocol.md section 13, "The client cache").
 *
 * Asked for it (`"reuse": true`), the daemon adds `reuse` to a resolve answer: the
 * generation the answer was computed under, for how long at most, and an idle limit. A
 * `Client` keeps such an answer and serves the next resolve of the same name from memory
 * while all of these hold:
 *
 * - the daemon's generation file (`<socket>.generation`, opened at the first reuse: a
 *   process that resolves once never opens it) still holds that generation. The daemon
 *   moves it, before the call that caused it returns, on anything that may change an
 *   answer. The file is trusted only as the socket is: opened with O_NOFOLLOW in the
 *   checked private socket directory, a regular file of this user that nobody else may
 *   read or write, in the documented format; otherwise nothing is reused;
 * - the time limits hold: `seconds` from when the request was sent, `idle` since the
 *   last use;
 * - the provider's environment variable is still unset: it is read on every call, so a
 *   variable set now wins at once. An explicit key never touches the cache.
 *
 * Node has no mmap, so the generation (bytes 8-15) is read with `readSync` on a kept
 * descriptor, twice, and counts only when both reads agree (section 13 allows this: a
 * torn read can only make an answer look outdated). What no generation announces is
 * looked at every `CHECK_INTERVAL` seconds and at every miss: config.toml (through the
 * Client's registry stamp), the socket path, whether the generation file is still the
 * one opened, and `NXUSKIT_CLIENT_CACHE`; any change empties the cache.
 */
import { Resolution } from "./answers";
import { type Environment } from "./paths";
import type { Registry, ProviderEntry } from "./registry";
/** Seconds between looks at what no generation announces. */
export declare const CHECK_INTERVAL = 0.1;
/** Names kept at most (each spelling of a name is one): past that the cache starts over. */
export declare const MAX_ENTRIES = 256;
declare const inspectSymbol: unique symbol;
/** Seconds on a monotonic clock. */
export declare function monotonic(): number;
/** Whether resolves may be reused (`NXUSKIT_CLIENT_CACHE` is not 0/false/no/off). */
export declare function cacheEnabled(env: Environment): boolean;
/** The daemon's generation file, beside its socket. */
export declare function generationPath(socket: string): string;
/** The daemon's leave to reuse a resolve answer (its `reuse` object). */
export interface Leave {
    generation: number;
    seconds: number;
    idle: number | null;
}
/** The `reuse` of an `auth.resolve` result: null when absent; ProtocolError when malformed. */
export declare function leaveFromWire(result: unknown): Leave | null;
/** A generation file this client trusts, open for reading. */
interface GenerationFile {
    descriptor: number;
    dev: number;
    ino: number;
}
/**
 * The generation file at `path`, opened and checked as section 13 says; null when it is
 * missing or cannot be trusted (then nothing is reused).
 */
export declare function openGeneration(path: string, uid?: number): GenerationFile | null;
/** What a cache asks of its Client: the socket path and config.toml's registry, now. */
export interface CacheSource {
    env: Environment;
    socketPath(): string;
    /** Whether `registry` is still what config.toml (or its absence) gives, by its stamp. */
    registryCurrent(registry: Registry): boolean;
}
/**
 * A Client's reusable resolves, by the provider name as the caller wrote it. Its
 * inspect, string and JSON forms show how many names it keeps, never an answer.
 */
export declare class ReuseCache {
    #private;
    constructor(source: CacheSource);
    /** How many names are kept. */
    get size(): number;
    /**
     * The kept answer for `provider` if it still holds, else undefined (ask the daemon).
     * The environment variable wins over it: read here on every call.
     */
    get(provider: string): Resolution | undefined;
    /**
     * Keep `answer` to `provider` (found in `registry` as `spec`), asked at `sent` (a
     * `monotonic()` time), when the daemon gave `leave` to reuse it.
     */
    keep(provider: string, registry: Registry, spec: ProviderEntry, answer: Resolution, leave: Leave | null, sent: number): void;
    /** Forget every kept answer and close the generation file. */
    clear(): void;
    toString(): string;
    toJSON(): Record<string, unknown>;
    [inspectSymbol](): string;
}
export {};
