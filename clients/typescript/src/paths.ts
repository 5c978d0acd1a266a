/**
 * Where nxuskitd listens and where config.toml lives: the same rules as the daemon and
 * the Python client (docs/protocol.md section 1).
 *
 * - socket: `$NXUSKIT_SOCKET`, else `<runtime dir>/nxuskit/nxuskitd.sock`, the runtime
 *   dir being `$XDG_RUNTIME_DIR`, else `/run/user/<uid>` when it exists, else
 *   `${TMPDIR:-/tmp}/runtime-<uid>` (macOS: `~/Library/Caches/TemporaryItems`);
 * - config: `$XDG_CONFIG_HOME/nxuskit/config.toml` (default `~/.config`; macOS:
 *   `~/Library/Application Support/nxuskit/config.toml`).
 */

import { statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The environment a client reads (`process.env` unless a test passes its own). */
export type Environment = Readonly<Record<string, string | undefined>>;

const darwin = process.platform === "darwin";

function nonBlank(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** This process's uid (the effective one: it is what the kernel checks). */
export function effectiveUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? -1;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The per-user runtime directory that holds nxuskit's socket directory. */
export function runtimeDir(env: Environment = process.env): string {
  if (darwin) {
    return join(homedir(), "Library", "Caches", "TemporaryItems");
  }
  const xdg = nonBlank(env, "XDG_RUNTIME_DIR");
  if (xdg !== undefined) {
    return xdg;
  }
  const uid = process.getuid?.() ?? -1;
  const standard = `/run/user/${uid}`;
  if (isDirectory(standard)) {
    return standard;
  }
  return join(nonBlank(env, "TMPDIR") ?? "/tmp", `runtime-${uid}`);
}

/** The daemon's socket: `$NXUSKIT_SOCKET`, or the default in the runtime dir. */
export function socketPath(env: Environment = process.env): string {
  const explicit = nonBlank(env, "NXUSKIT_SOCKET");
  if (explicit !== undefined) {
    return resolve(explicit);
  }
  return join(runtimeDir(env), "nxuskit", "nxuskitd.sock");
}

/** The path of config.toml (it need not exist). */
export function configPath(env: Environment = process.env): string {
  if (darwin) {
    return join(homedir(), "Library", "Application Support", "nxuskit", "config.toml");
  }
  const base = nonBlank(env, "XDG_CONFIG_HOME") ?? join(homedir(), ".config");
  return join(base, "nxuskit", "config.toml");
}
