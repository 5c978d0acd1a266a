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
export {
  Client,
  DEFAULT_TIMEOUT,
  timeoutFromEnv,
  type ClientOptions,
  type Connect,
} from "./client";
export type { Transport } from "./transport";
export {
  ConfigError,
  DaemonBusy,
  DaemonUnavailable,
  InvalidArgument,
  LoginFailed,
  NotAuthenticated,
  NxuskitError,
  PermissionDenied,
  ProtocolError,
  StoreUnavailable,
  UnknownProvider,
  VersionMismatch,
  errorFromWire,
} from "./errors";
export type { Environment } from "./paths";
export { PROTOCOL_VERSION, type AuthMethod, type Source, type StatusValue } from "./protocol";
export { normalizeName, type ProviderEntry } from "./registry";

let defaultInstance: Client | undefined;

/** The per-process Client the package functions use. */
export function defaultClient(): Client {
  defaultInstance ??= new Client();
  return defaultInstance;
}

/**
 * Make `client` the one the package functions use (undefined: a new default on next
 * use). The previous default's connection is closed.
 */
export function setDefaultClient(client: Client | undefined): void {
  const previous = defaultInstance;
  defaultInstance = client;
  if (previous !== undefined && previous !== client) {
    previous.close();
  }
}

/** `provider`'s status: authenticated or not, from which source (`Client.authStatus`). */
export function authStatus(provider: string, apiKey?: string | null): Promise<AuthStatus> {
  return defaultClient().authStatus(provider, apiKey);
}

/** Every usable provider's status, in registry order (`Client.authStatusAll`). */
export function authStatusAll(): Promise<AuthStatus[]> {
  return defaultClient().authStatusAll();
}

/** Store `secret` as `provider`'s API key (`Client.authSetCredential`). */
export function authSetCredential(provider: string, secret: string): Promise<void> {
  return defaultClient().authSetCredential(provider, secret);
}

/** Resolve `provider`'s credential: `apiKey`, its env variable, the store (`Client.authResolve`). */
export function authResolve(provider: string, apiKey?: string | null): Promise<Resolution> {
  return defaultClient().authResolve(provider, apiKey);
}

/** Remove `provider`'s stored credential; true if one was stored (`Client.authRemoveCredential`). */
export function authRemoveCredential(provider: string): Promise<boolean> {
  return defaultClient().authRemoveCredential(provider);
}
