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
import type { AuthStatus, Resolution } from "./answers";
import { Client } from "./client";
export { AuthStatus, Resolution } from "./answers";
export { Client, DEFAULT_TIMEOUT, timeoutFromEnv, type ClientOptions, type Connect, } from "./client";
export type { Transport } from "./transport";
export { ConfigError, DaemonBusy, DaemonUnavailable, InvalidArgument, LoginFailed, NotAuthenticated, NxuskitError, PermissionDenied, ProtocolError, StoreUnavailable, UnknownProvider, VersionMismatch, errorFromWire, } from "./errors";
export type { Environment } from "./paths";
export { PROTOCOL_VERSION, type AuthMethod, type Source, type StatusValue } from "./protocol";
export { normalizeName, type ProviderEntry } from "./registry";
/** The per-process Client the package functions use. */
export declare function defaultClient(): Client;
/**
 * Make `client` the one the package functions use (undefined: a new default on next
 * use). The previous default's connection is closed.
 */
export declare function setDefaultClient(client: Client | undefined): void;
/** `provider`'s status: authenticated or not, from which source (`Client.authStatus`). */
export declare function authStatus(provider: string, apiKey?: string | null): Promise<AuthStatus>;
/** Every usable provider's status, in registry order (`Client.authStatusAll`). */
export declare function authStatusAll(): Promise<AuthStatus[]>;
/** Store `secret` as `provider`'s API key (`Client.authSetCredential`). */
export declare function authSetCredential(provider: string, secret: string): Promise<void>;
/** Resolve `provider`'s credential: `apiKey`, its env variable, the store (`Client.authResolve`). */
export declare function authResolve(provider: string, apiKey?: string | null): Promise<Resolution>;
/** Remove `provider`'s stored credential; true if one was stored (`Client.authRemoveCredential`). */
export declare function authRemoveCredential(provider: string): Promise<boolean>;
