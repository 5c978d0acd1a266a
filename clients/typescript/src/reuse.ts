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

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";

import { Resolution } from "./answers";
import { ProtocolError } from "./errors";
import { effectiveUid, type Environment } from "./paths";
import type { Registry, ProviderEntry } from "./registry";
import { checkSocketDirectory } from "./trust";

/** Seconds between looks at what no generation announces. */
export const CHECK_INTERVAL = 0.1;
/** Names kept at most (each spelling of a name is one): past that the cache starts over. */
export const MAX_ENTRIES = 256;
/** The generation file's magic and format (its first 8 bytes). */
const HEADER = Buffer.from([0x4e, 0x58, 0x47, 0x4e, 1, 0, 0, 0]);
const SIZE = 16;
const TWO_32 = 2 ** 32;
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

/** Seconds on a monotonic clock. */
export function monotonic(): number {
  return performance.now() / 1000;
}

/** Whether resolves may be reused (`NXUSKIT_CLIENT_CACHE` is not 0/false/no/off). */
export function cacheEnabled(env: Environment): boolean {
  const value = (env.NXUSKIT_CLIENT_CACHE ?? "1").trim().toLowerCase();
  return !["0", "false", "no", "off"].includes(value);
}

/** The daemon's generation file, beside its socket. */
export function generationPath(socket: string): string {
  return `${socket}.generation`;
}

/** The daemon's leave to reuse a resolve answer (its `reuse` object). */
export interface Leave {
  generation: number;
  seconds: number;
  idle: number | null;
}

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;

/** The `reuse` of an `auth.resolve` result: null when absent; ProtocolError when malformed. */
export function leaveFromWire(result: unknown): Leave | null {
  const reuse = (result as Record<string, unknown>).reuse;
  if (reuse === undefined || reuse === null) {
    return null;
  }
  const body = reuse as Record<string, unknown>;
  const fits =
    typeof reuse === "object" &&
    Number.isSafeInteger(body.generation) &&
    isCount(body.generation) &&
    isCount(body.seconds) &&
    (body.idle === null || body.idle === undefined || isCount(body.idle));
  if (!fits) {
    throw new ProtocolError("the daemon's answer to auth.resolve has a malformed 'reuse'");
  }
  return {
    generation: body.generation as number,
    seconds: body.seconds as number,
    idle: (body.idle as number | null | undefined) ?? null,
  };
}

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
export function openGeneration(path: string, uid = effectiveUid()): GenerationFile | null {
  try {
    checkSocketDirectory(dirname(path), uid);
  } catch {
    return null;
  }
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stats = fstatSync(descriptor);
    const header = Buffer.alloc(8);
    const trusted =
      stats.isFile() &&
      stats.uid === uid &&
      (stats.mode & 0o077) === 0 &&
      stats.size >= SIZE &&
      readSync(descriptor, header, 0, 8, 0) === 8 &&
      header.equals(HEADER);
    if (trusted) {
      return { descriptor, dev: stats.dev, ino: stats.ino };
    }
  } catch {
    // unreadable: not trusted
  }
  closeSync(descriptor);
  return null;
}

/** What is kept for one name as the caller spelled it. */
class Entry {
  constructor(
    readonly spec: ProviderEntry,
    readonly answer: Resolution,
    readonly low: number, // the generation's two 32-bit halves, as read from the file
    readonly high: number,
    readonly until: number,
    readonly idle: number,
    public used: number,
  ) {}
}

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
export class ReuseCache {
  readonly #source: CacheSource;
  #entries = new Map<string, Entry>();
  #registry: Registry | undefined;
  #path = "";
  #file: GenerationFile | null = null;
  #checkAt = 0;
  #retryOpenAt = 0; // after a generation file that could not be trusted
  readonly #read = Buffer.alloc(16);

  constructor(source: CacheSource) {
    this.#source = source;
  }

  /** How many names are kept. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The kept answer for `provider` if it still holds, else undefined (ask the daemon).
   * The environment variable wins over it: read here on every call.
   */
  get(provider: string): Resolution | undefined {
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
    if (
      file === null ||
      now >= entry.until ||
      now - entry.used >= entry.idle ||
      !this.#holds(file.descriptor, entry.low, entry.high)
    ) {
      return undefined;
    }
    entry.used = now;
    const kept = entry.answer; // a copy: a caller that changes its answer changes no other
    return new Resolution(kept.provider, kept.secret, kept.source, kept.authMethod, kept.expiresAt);
  }

  /**
   * Keep `answer` to `provider` (found in `registry` as `spec`), asked at `sent` (a
   * `monotonic()` time), when the daemon gave `leave` to reuse it.
   */
  keep(
    provider: string,
    registry: Registry,
    spec: ProviderEntry,
    answer: Resolution,
    leave: Leave | null,
    sent: number,
  ): void {
    if (!cacheEnabled(this.#source.env)) {
      this.clear();
      return;
    }
    const path = this.#source.socketPath();
    if (registry !== this.#registry || path !== this.#path || !this.#sameFile()) {
      this.clear();
      this.#registry = registry;
      this.#path = path;
      this.#checkAt = sent + CHECK_INTERVAL;
    }
    if (leave === null) {
      this.#entries.delete(provider);
      return;
    }
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(provider)) {
      this.#entries = new Map();
    }
    const low = leave.generation % TWO_32;
    const high = Math.floor(leave.generation / TWO_32);
    const idle = leave.idle ?? Infinity;
    // A copy: the caller's own answer may be changed (plain JavaScript ignores readonly).
    const copy = new Resolution(
      answer.provider,
      answer.secret,
      answer.source,
      answer.authMethod,
      answer.expiresAt,
    );
    const entry = new Entry(spec, copy, low, high, sent + leave.seconds, idle, sent);
    this.#entries.set(provider, entry);
  }

  /** Forget every kept answer and close the generation file. */
  clear(): void {
    this.#entries = new Map();
    this.#registry = undefined;
    if (this.#file !== null) {
      closeSync(this.#file.descriptor);
      this.#file = null;
    }
    this.#retryOpenAt = 0;
  }

  /** Whether the file holds the generation `low`/`high`: two reads that agree say so. */
  #holds(descriptor: number, low: number, high: number): boolean {
    const read = this.#read;
    try {
      if (readSync(descriptor, read, 0, 8, 8) !== 8 || readSync(descriptor, read, 8, 8, 8) !== 8) {
        return false;
      }
    } catch {
      return false;
    }
    return (
      read.readUInt32LE(0) === low &&
      read.readUInt32LE(4) === high &&
      read.readUInt32LE(8) === low &&
      read.readUInt32LE(12) === high
    );
  }

  #open(now: number): GenerationFile | null {
    if (now < this.#retryOpenAt) {
      return null;
    }
    this.#file = openGeneration(generationPath(this.#path));
    if (this.#file === null) {
      this.#retryOpenAt = now + CHECK_INTERVAL;
    }
    return this.#file;
  }

  /** Look again at what no generation announces; false (and empty) on a change. */
  #recheck(now: number): boolean {
    this.#checkAt = now + CHECK_INTERVAL;
    const registry = this.#registry;
    const same =
      cacheEnabled(this.#source.env) &&
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
  #sameFile(): boolean {
    const file = this.#file;
    if (file === null) {
      return true;
    }
    try {
      const stats = lstatSync(generationPath(this.#path));
      return stats.dev === file.dev && stats.ino === file.ino;
    } catch {
      return false;
    }
  }

  toString(): string {
    return `ReuseCache(${this.#entries.size} names)`;
  }

  toJSON(): Record<string, unknown> {
    return { names: this.#entries.size };
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
