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

import { statSync } from "node:fs";
import { resolve } from "node:path";

import { AuthStatus, Resolution, resultObject } from "./answers";
import { autostartEnabled, startDaemon } from "./autostart";
import { Closed, NotRunning, openConnection } from "./connection";
import { DaemonUnavailable, InvalidArgument, ProtocolError } from "./errors";
import { configPath, socketPath, type Environment } from "./paths";
import {
  DAEMON_STATUS,
  PROVIDER_LIST,
  REMOVE_CREDENTIAL,
  RESOLVE,
  RETRY_SAFE,
  SET_CREDENTIAL,
  STATUS,
} from "./protocol";
import { BUILTIN } from "./providers";
import { Registry, registryFromWire, requiresAuth, type ProviderEntry } from "./registry";
import { cacheEnabled, leaveFromWire, monotonic, ReuseCache } from "./reuse";
import { checkSecret } from "./secret";
import type { Transport } from "./transport";

/** Seconds to wait for an answer when neither `timeout` nor `NXUSKIT_TIMEOUT` says. */
export const DEFAULT_TIMEOUT = 30;

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
export function timeoutFromEnv(env: Environment = process.env): number {
  const raw = (env.NXUSKIT_TIMEOUT ?? "").trim();
  if (!raw) {
    return DEFAULT_TIMEOUT;
  }
  const value = Number(raw);
  if (!(value > 0 && value < 86400)) {
    throw new InvalidArgument(
      `NXUSKIT_TIMEOUT=${JSON.stringify(raw)}: give the seconds to wait, like 30`,
    );
  }
  return value;
}

function fileStamp(path: string): string | null {
  // ctime, mode and owner too: a chmod or chown changes whether the daemon trusts it.
  const stats = statSync(path, { throwIfNoEntry: false });
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
export class Client {
  readonly socketPath: string | undefined;
  readonly autostart: boolean | undefined;
  readonly timeout: number | undefined;
  private readonly env: Environment;
  private readonly startCommand: readonly string[] | undefined;
  private readonly connect: Connect;
  private connection: Transport | undefined;
  private connectionPath = "";
  private opening: Promise<Transport> | undefined;
  private registryCache: { path: string; stamp: string | null; registry: Registry } | undefined;
  private readonly reuse: ReuseCache;

  /** Throws InvalidArgument for a `timeout` that is not a positive number of seconds. */
  constructor(options: ClientOptions = {}) {
    if (options.timeout !== undefined && !(options.timeout > 0 && options.timeout < 86400)) {
      throw new InvalidArgument(`timeout ${options.timeout}: give the seconds to wait, like 30`);
    }
    this.socketPath = options.socketPath === undefined ? undefined : resolve(options.socketPath);
    this.autostart = options.autostart;
    this.timeout = options.timeout;
    this.env = options.env ?? process.env;
    this.startCommand = options.startCommand;
    this.connect = options.connect ?? openConnection;
    this.reuse = new ReuseCache({
      env: this.env,
      socketPath: () => this.path(),
      registryCurrent: (registry) => this.registryCurrent(registry),
    });
  }

  /** The socket this client talks to (now). */
  path(): string {
    return this.socketPath ?? socketPath(this.env);
  }

  /**
   * Send one JSON-RPC request and return its result. Throws the NxuskitError the daemon
   * answered with, or DaemonUnavailable.
   */
  async call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const connection = await this.current();
      try {
        return await connection.call(method, params);
      } catch (error) {
        if (!(error instanceof Closed)) {
          throw error;
        }
        this.drop(connection);
        if (attempt === 2 || !RETRY_SAFE.has(method)) {
          throw new DaemonUnavailable(
            `nxuskitd at ${this.connectionPath} closed the connection before answering ` +
              `${method}; see its log`,
          );
        }
      }
    }
  }

  /** Close the connection (the next call opens a new one) and forget reusable answers. */
  close(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    this.reuse.clear();
  }

  private drop(connection: Transport): void {
    if (this.connection === connection) {
      this.connection = undefined;
    }
    connection.close();
  }

  private async current(): Promise<Transport> {
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

  private async open(path: string): Promise<Transport> {
    const timeoutMs = (this.timeout ?? timeoutFromEnv(this.env)) * 1000;
    let connection: Transport;
    try {
      connection = await this.connect(path, timeoutMs);
    } catch (error) {
      if (!(error instanceof NotRunning)) {
        throw error;
      }
      if (!(this.autostart ?? autostartEnabled(this.env))) {
        const why =
          this.autostart === false ? "" : " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)";
        throw new DaemonUnavailable(
          `nxuskitd is not running at ${path}${why}: start it with \`nxuskit-cli daemon ` +
            "start` or `nxuskitd` (or `nxuskit-cli daemon install` for a service)",
        );
      }
      await startDaemon(path, this.env, this.startCommand);
      try {
        connection = await this.connect(path, timeoutMs);
      } catch (again) {
        if (again instanceof NotRunning) {
          throw new DaemonUnavailable(`nxuskitd started but does not answer at ${path}`);
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
  async registry(): Promise<Registry> {
    const path = configPath(this.env);
    const stamp = fileStamp(path);
    const cached = this.registryCache;
    if (cached !== undefined && cached.path === path && cached.stamp === stamp) {
      return cached.registry;
    }
    const registry =
      stamp === null
        ? new Registry(BUILTIN, path)
        : registryFromWire(await this.call(PROVIDER_LIST, {}), path);
    // A file the daemon refused is looked at again next time: the fix may be elsewhere.
    this.registryCache = registry.configError === null ? { path, stamp, registry } : undefined;
    return registry;
  }

  /** Whether `registry` is still the one config.toml (or its absence) gives: one stat. */
  private registryCurrent(registry: Registry): boolean {
    const cached = this.registryCache;
    const path = configPath(this.env);
    return (
      cached !== undefined &&
      cached.registry === registry &&
      cached.path === path &&
      cached.stamp === fileStamp(path)
    );
  }

  private fromEnv(entry: ProviderEntry): string | undefined {
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
  async authResolve(provider: string, apiKey?: string | null): Promise<Resolution> {
    const explicit = typeof apiKey === "string" && apiKey !== "";
    const kept = explicit ? undefined : this.reuse.get(provider);
    if (kept !== undefined) {
      return kept;
    }
    const registry = await this.registry();
    const entry = registry.get(provider);
    if (!requiresAuth(entry)) {
      return new Resolution(entry.name, null, null, "none");
    }
    if (explicit) {
      return new Resolution(entry.name, apiKey, "explicit", "api_key");
    }
    const value = this.fromEnv(entry);
    if (value !== undefined) {
      return new Resolution(entry.name, value, "env", "api_key");
    }
    const params: Record<string, unknown> = { provider: entry.name };
    if (cacheEnabled(this.env)) {
      params.reuse = true; // the daemon grants leave only to clients that ask
    }
    const sent = monotonic();
    const result = await this.call(RESOLVE, params);
    const answer = Resolution.fromWire(result, RESOLVE);
    this.reuse.keep(provider, registry, entry, answer, leaveFromWire(result), sent);
    return answer;
  }

  /**
   * `provider`'s status by the same precedence; the daemon is asked only when neither
   * `apiKey` nor the environment decides it. Throws as `authResolve`, never
   * NotAuthenticated.
   */
  async authStatus(provider: string, apiKey?: string | null): Promise<AuthStatus> {
    const entry = (await this.registry()).get(provider);
    if (requiresAuth(entry) && typeof apiKey === "string" && apiKey !== "") {
      return this.statusOf(entry, null, "explicit");
    }
    if (!requiresAuth(entry) || this.fromEnv(entry) !== undefined) {
      return this.statusOf(entry, null);
    }
    const entries = await this.statuses({ provider: entry.name });
    return this.statusOf(entry, entries.get(entry.name) ?? null);
  }

  /** Every usable provider's status, in registry order (one round trip). */
  async authStatusAll(): Promise<AuthStatus[]> {
    const registry = await this.registry();
    const entries = await this.statuses({});
    return registry.providers.map((entry) => this.statusOf(entry, entries.get(entry.name) ?? null));
  }

  private async statuses(params: Record<string, unknown>): Promise<Map<string, AuthStatus>> {
    const body = resultObject(await this.call(STATUS, params), STATUS);
    if (!Array.isArray(body.providers)) {
      throw new ProtocolError(`the daemon's answer to ${STATUS} lacks its 'providers' field`);
    }
    const entries = body.providers.map((item: unknown) => AuthStatus.fromWire(item, STATUS));
    return new Map(entries.map((status) => [status.provider, status]));
  }

  private statusOf(
    entry: ProviderEntry,
    stored: AuthStatus | null,
    explicit?: "explicit",
  ): AuthStatus {
    const methods = [...entry.auth_methods];
    const name = entry.display_name;
    if (!requiresAuth(entry)) {
      return new AuthStatus(entry.name, "not_required", null, methods, null, null, name);
    }
    if (explicit !== undefined || this.fromEnv(entry) !== undefined) {
      return new AuthStatus(
        entry.name,
        "authenticated",
        explicit ?? "env",
        methods,
        "api_key",
        null,
        name,
      );
    }
    if (stored !== null && stored.status === "authenticated") {
      return new AuthStatus(
        entry.name,
        "authenticated",
        stored.source,
        methods,
        stored.authMethod,
        stored.expiresAt,
        name,
      );
    }
    return new AuthStatus(entry.name, "not_authenticated", null, methods, null, null, name);
  }

  /**
   * Store `secret` as `provider`'s API key in the daemon's store. Surrounding spaces,
   * tabs and line breaks are trimmed. Throws UnknownProvider, InvalidArgument (empty,
   * too long, a control character or lone surrogate inside, a provider without API
   * keys), DaemonUnavailable, StoreUnavailable.
   */
  async authSetCredential(provider: string, secret: string): Promise<void> {
    const entry = (await this.registry()).get(provider);
    const params = { provider: entry.name, secret: checkSecret(secret) };
    resultObject(await this.call(SET_CREDENTIAL, params), SET_CREDENTIAL);
  }

  /**
   * Remove `provider`'s stored credential; true if one was stored. `provider` may also be
   * the exact stored name of a provider config.toml no longer defines (an orphan).
   * Throws UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
   */
  async authRemoveCredential(provider: string): Promise<boolean> {
    if (typeof provider !== "string") {
      throw new InvalidArgument('the provider must be a name, like "openai"');
    }
    // An unknown name may be an orphan: only the daemon knows what is stored.
    const name = (await this.registry()).find(provider)?.name ?? provider;
    const body = resultObject(
      await this.call(REMOVE_CREDENTIAL, { provider: name }),
      REMOVE_CREDENTIAL,
    );
    if (typeof body.removed !== "boolean") {
      throw new ProtocolError(
        `the daemon's answer to ${REMOVE_CREDENTIAL} has a malformed 'removed'`,
      );
    }
    return body.removed;
  }

  /** The daemon's `daemon.status` answer (pid, version, socket, started_by, store, ...). */
  async daemonStatus(): Promise<Record<string, unknown>> {
    return resultObject(await this.call(DAEMON_STATUS, {}), DAEMON_STATUS);
  }
}
