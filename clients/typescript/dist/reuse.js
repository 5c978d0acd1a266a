"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.ReuseCache = exports.MAX_ENTRIES = exports.CHECK_INTERVAL = void 0;
exports.monotonic = monotonic;
exports.cacheEnabled = cacheEnabled;
exports.generationPath = generationPath;
exports.leaveFromWire = leaveFromWire;
exports.openGeneration = openGeneration;
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const answers_1 = require("./answers");
const errors_1 = require("./errors");
const paths_1 = require("./paths");
const trust_1 = require("./trust");
/** Seconds between looks at what no generation announces. */
exports.CHECK_INTERVAL = 0.1;
/** Names kept at most (each spelling of a name is one): past that the cache starts over. */
exports.MAX_ENTRIES = 256;
/** The generation file's magic and format (its first 8 bytes). */
const HEADER = Buffer.from([0x4e, 0x58, 0x47, 0x4e, 1, 0, 0, 0]);
const SIZE = 16;
const TWO_32 = 2 ** 32;
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");
/** Seconds on a monotonic clock. */
function monotonic() {
    return performance.now() / 1000;
}
/** Whether resolves may be reused (`NXUSKIT_CLIENT_CACHE` is not 0/false/no/off). */
function cacheEnabled(env) {
    const value = (env.NXUSKIT_CLIENT_CACHE ?? "1").trim().toLowerCase();
    return !["0", "false", "no", "off"].includes(value);
}
/** The daemon's generation file, beside its socket. */
function generationPath(socket) {
    return `${socket}.generation`;
}
const isCount = (value) => typeof value === "number" && Number.isFinite(value) && value >= 0;
/** The `reuse` of an `auth.resolve` result: null when absent; ProtocolError when malformed. */
function leaveFromWire(result) {
    const reuse = result.reuse;
    if (reuse === undefined || reuse === null) {
        return null;
    }
    const body = reuse;
    const fits = typeof reuse === "object" &&
        Number.isSafeInteger(body.generation) &&
        isCount(body.generation) &&
        isCount(body.seconds) &&
        (body.idle === null || body.idle === undefined || isCount(body.idle));
    if (!fits) {
        throw new errors_1.ProtocolError("the daemon's answer to auth.resolve has a malformed 'reuse'");
    }
    return {
        generation: body.generation,
        seconds: body.seconds,
        idle: body.idle ?? null,
    };
}
/**
 * The generation file at `path`, opened and checked as section 13 says; null when it is
 * missing or cannot be trusted (then nothing is reused).
 */
function openGeneration(path, uid = (0, paths_1.effectiveUid)()) {
    try {
        (0, trust_1.checkSocketDirectory)((0, node_path_1.dirname)(path), uid);
    }
    catch {
        return null;
    }
    let descriptor;
    try {
        descriptor = (0, node_fs_1.openSync)(path, node_fs_1.constants.O_RDONLY | node_fs_1.constants.O_NOFOLLOW | node_fs_1.constants.O_NONBLOCK);
    }
    catch {
        return null;
    }
    try {
        const stats = (0, node_fs_1.fstatSync)(descriptor);
        const header = Buffer.alloc(8);
        const trusted = stats.isFile() &&
            stats.uid === uid &&
            (stats.mode & 0o077) === 0 &&
            stats.size >= SIZE &&
            (0, node_fs_1.readSync)(descriptor, header, 0, 8, 0) === 8 &&
            header.equals(HEADER);
        if (trusted) {
            return { descriptor, dev: stats.dev, ino: stats.ino };
        }
    }
    catch {
        // unreadable: not trusted
    }
    (0, node_fs_1.closeSync)(descriptor);
    return null;
}
/** What is kept for one name as the caller spelled it. */
class Entry {
    spec;
    answer;
    low;
    high;
    until;
    idle;
    used;
    constructor(spec, answer, low, // the generation's two 32-bit halves, as read from the file
    high, until, idle, used) {
        this.spec = spec;
        this.answer = answer;
        this.low = low;
        this.high = high;
        this.until = until;
        this.idle = idle;
        this.used = used;
    }
}
/**
 * A Client's reusable resolves, by the provider name as the caller wrote it. Its
 * inspect, string and JSON forms show how many names it keeps, never an answer.
 */
class ReuseCache {
    #source;
    #entries = new Map();
    #registry;
    #path = "";
    #file = null;
    #checkAt = 0;
    #retryOpenAt = 0; // after a generation file that could not be trusted
    #read = Buffer.alloc(16);
    constructor(source) {
        this.#source = source;
    }
    /** How many names are kept. */
    get size() {
        return this.#entries.size;
    }
    /**
     * The kept answer for `provider` if it still holds, else undefined (ask the daemon).
     * The environment variable wins over it: read here on every call.
     */
    get(provider) {
        const entry = this.#entries.get(provider);
        if (entry === undefined) {
            return undefined;
        }
        const now = monotonic();
        if (now >= this.#checkAt && !this.#recheck(now)) {
            return undefined;
        }
        const env = entry.spec.env;
        if (env !== null && this.#source.env[env]) {
            return undefined; // the environment wins: the Client answers it from there
        }
        const file = this.#file ?? this.#open(now);
        if (file === null ||
            now >= entry.until ||
            now - entry.used >= entry.idle ||
            !this.#holds(file.descriptor, entry.low, entry.high)) {
            return undefined;
        }
        entry.used = now;
        const kept = entry.answer; // a copy: a caller that changes its answer changes no other
        return new answers_1.Resolution(kept.provider, kept.secret, kept.source, kept.authMethod, kept.expiresAt);
    }
    /**
     * Keep `answer` to `provider` (found in `registry` as `spec`), asked at `sent` (a
     * `monotonic()` time), when the daemon gave `leave` to reuse it.
     */
    keep(provider, registry, spec, answer, leave, sent) {
        if (!cacheEnabled(this.#source.env)) {
            this.clear();
            return;
        }
        const path = this.#source.socketPath();
        if (registry !== this.#registry || path !== this.#path || !this.#sameFile()) {
            this.clear();
            this.#registry = registry;
            this.#path = path;
            this.#checkAt = sent + exports.CHECK_INTERVAL;
        }
        if (leave === null) {
            this.#entries.delete(provider);
            return;
        }
        if (this.#entries.size >= exports.MAX_ENTRIES && !this.#entries.has(provider)) {
            this.#entries = new Map();
        }
        const low = leave.generation % TWO_32;
        const high = Math.floor(leave.generation / TWO_32);
        const idle = leave.idle ?? Infinity;
        // A copy: the caller's own answer may be changed (plain JavaScript ignores readonly).
        const copy = new answers_1.Resolution(answer.provider, answer.secret, answer.source, answer.authMethod, answer.expiresAt);
        const entry = new Entry(spec, copy, low, high, sent + leave.seconds, idle, sent);
        this.#entries.set(provider, entry);
    }
    /** Forget every kept answer and close the generation file. */
    clear() {
        this.#entries = new Map();
        this.#registry = undefined;
        if (this.#file !== null) {
            (0, node_fs_1.closeSync)(this.#file.descriptor);
            this.#file = null;
        }
        this.#retryOpenAt = 0;
    }
    /** Whether the file holds the generation `low`/`high`: two reads that agree say so. */
    #holds(descriptor, low, high) {
        const read = this.#read;
        try {
            if ((0, node_fs_1.readSync)(descriptor, read, 0, 8, 8) !== 8 || (0, node_fs_1.readSync)(descriptor, read, 8, 8, 8) !== 8) {
                return false;
            }
        }
        catch {
            return false;
        }
        return (read.readUInt32LE(0) === low &&
            read.readUInt32LE(4) === high &&
            read.readUInt32LE(8) === low &&
            read.readUInt32LE(12) === high);
    }
    #open(now) {
        if (now < this.#retryOpenAt) {
            return null;
        }
        this.#file = openGeneration(generationPath(this.#path));
        if (this.#file === null) {
            this.#retryOpenAt = now + exports.CHECK_INTERVAL;
        }
        return this.#file;
    }
    /** Look again at what no generation announces; false (and empty) on a change. */
    #recheck(now) {
        this.#checkAt = now + exports.CHECK_INTERVAL;
        const registry = this.#registry;
        const same = cacheEnabled(this.#source.env) &&
            this.#source.socketPath() === this.#path &&
            registry !== undefined &&
            this.#source.registryCurrent(registry) &&
            this.#sameFile();
        if (!same) {
            this.clear();
        }
        return same;
    }
    /** The generation file at the path is still the one opened (none opened: true). */
    #sameFile() {
        const file = this.#file;
        if (file === null) {
            return true;
        }
        try {
            const stats = (0, node_fs_1.lstatSync)(generationPath(this.#path));
            return stats.dev === file.dev && stats.ino === file.ino;
        }
        catch {
            return false;
        }
    }
    toString() {
        return `ReuseCache(${this.#entries.size} names)`;
    }
    toJSON() {
        return { names: this.#entries.size };
    }
    [inspectSymbol]() {
        return this.toString();
    }
}
exports.ReuseCache = ReuseCache;
