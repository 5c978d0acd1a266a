"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.effectiveUid = effectiveUid;
exports.runtimeDir = runtimeDir;
exports.socketPath = socketPath;
exports.configPath = configPath;
const node_fs_1 = require("node:fs");
const node_os_1 = require("node:os");
const node_path_1 = require("node:path");
const darwin = process.platform === "darwin";
function nonBlank(env, name) {
    const value = env[name]?.trim();
    return value ? value : undefined;
}
/** This process's uid (the effective one: it is what the kernel checks). */
function effectiveUid() {
    return process.geteuid?.() ?? process.getuid?.() ?? -1;
}
function isDirectory(path) {
    try {
        return (0, node_fs_1.statSync)(path).isDirectory();
    }
    catch {
        return false;
    }
}
/** The per-user runtime directory that holds nxuskit's socket directory. */
function runtimeDir(env = process.env) {
    if (darwin) {
        return (0, node_path_1.join)((0, node_os_1.homedir)(), "Library", "Caches", "TemporaryItems");
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
    return (0, node_path_1.join)(nonBlank(env, "TMPDIR") ?? "/tmp", `runtime-${uid}`);
}
/** The daemon's socket: `$NXUSKIT_SOCKET`, or the default in the runtime dir. */
function socketPath(env = process.env) {
    const explicit = nonBlank(env, "NXUSKIT_SOCKET");
    if (explicit !== undefined) {
        return (0, node_path_1.resolve)(explicit);
    }
    return (0, node_path_1.join)(runtimeDir(env), "nxuskit", "nxuskitd.sock");
}
/** The path of config.toml (it need not exist). */
function configPath(env = process.env) {
    if (darwin) {
        return (0, node_path_1.join)((0, node_os_1.homedir)(), "Library", "Application Support", "nxuskit", "config.toml");
    }
    const base = nonBlank(env, "XDG_CONFIG_HOME") ?? (0, node_path_1.join)((0, node_os_1.homedir)(), ".config");
    return (0, node_path_1.join)(base, "nxuskit", "config.toml");
}
