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
/** The environment a client reads (`process.env` unless a test passes its own). */
export type Environment = Readonly<Record<string, string | undefined>>;
/** This process's uid (the effective one: it is what the kernel checks). */
export declare function effectiveUid(): number;
/** The per-user runtime directory that holds nxuskit's socket directory. */
export declare function runtimeDir(env?: Environment): string;
/** The daemon's socket: `$NXUSKIT_SOCKET`, or the default in the runtime dir. */
export declare function socketPath(env?: Environment): string;
/** The path of config.toml (it need not exist). */
export declare function configPath(env?: Environment): string;
