/**
 * Whom this client trusts: directories, and the socket it is about to send a key to.
 *
 * The same rules as the daemon and the Python client (docs/protocol.md section 1,
 * docs/security.md), checked before anything is sent:
 *
 * - **The chain.** Every directory from `/` down to the socket's directory is owned by
 *   this user or root, and no other user can write to it, except a root-owned sticky
 *   directory such as `/tmp`. A symlink on the way is owned by this user or root, and its
 *   target passes the same rules.
 * - **The private directory.** The socket's own directory is a real directory (not a
 *   symlink) of this user, closed to everyone else, and not on a FUSE file system (whose
 *   server reports any owner it likes).
 * - **The server.** Node.js has no API for the peer's credentials (`SO_PEERCRED`), so
 *   this client checks the socket file instead: it must be a socket (not a symlink)
 *   owned by this user, and the same file before and after `connect()`. The kernel sets
 *   that owner when a process binds the socket, and only root can change it; the private
 *   directory keeps every other user from putting a socket of theirs in its place. What
 *   this does not see, and `SO_PEERCRED` would: a socket that one of this user's own
 *   processes bound and then handed to another user's process (README, "The peer check").
 */

import { lstatSync, realpathSync, readFileSync, statfsSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

import { PermissionDenied } from "./errors";
import { effectiveUid } from "./paths";

const MAX_LINKS = 16;
const FUSE_SUPER_MAGIC = 0x65735546;
const FIX = "use a directory only you can write to (set XDG_RUNTIME_DIR, or NXUSKIT_SOCKET)";

/** `uid 1000 (ada)`, or `uid 1000` when /etc/passwd does not name it. */
export function ownerName(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const fields = line.split(":");
      if (fields.length > 2 && fields[2] === String(uid)) {
        return `uid ${uid} (${fields[0]})`;
      }
    }
  } catch {
    // no /etc/passwd (or unreadable): the number alone
  }
  return `uid ${uid}`;
}

function modeText(stats: Stats): string {
  return (stats.mode & 0o7777).toString(8).padStart(4, "0");
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return null;
    }
    throw new PermissionDenied(`cannot check ${path}: ${(error as Error).message}`);
  }
}

/** Whether anything (a dangling symlink too) is at `path`. */
export function lexists(path: string): boolean {
  return lstatOrNull(path) !== null;
}

/**
 * Check every directory from `/` down to `directory`; a missing one ends the walk (its
 * parent was checked, and whoever creates it creates it for us).
 * Throws PermissionDenied naming the first directory that fails.
 */
export function checkDirectoryChain(directory: string, uid = effectiveUid()): void {
  walk(resolve(directory), uid, 0);
}

function walk(path: string, uid: number, links: number): void {
  let current = "/";
  checkLinkOrDirectory(current, lstatSync(current), uid);
  for (const name of path.split("/")) {
    if (!name) {
      continue;
    }
    const step = join(current, name);
    const stats = lstatOrNull(step);
    if (stats === null) {
      return;
    }
    checkLinkOrDirectory(step, stats, uid);
    if (!stats.isSymbolicLink()) {
      current = step;
      continue;
    }
    if (links >= MAX_LINKS) {
      throw new PermissionDenied(`too many symlinks on the way to ${path}`);
    }
    let target: string;
    try {
      target = realpathSync(step);
    } catch {
      return; // a dangling link leads nowhere: nothing there to connect to
    }
    walk(target, uid, links + 1);
    current = target;
  }
}

function checkLinkOrDirectory(path: string, stats: Stats, uid: number): void {
  if (stats.uid !== uid && stats.uid !== 0) {
    const kind = stats.isSymbolicLink() ? "symlink" : "directory";
    throw new PermissionDenied(
      `the ${kind} ${path} belongs to ${ownerName(stats.uid)}, who could redirect ` +
        `nxuskit's socket: ${FIX}`,
    );
  }
  if (stats.isSymbolicLink()) {
    return;
  }
  if (!stats.isDirectory()) {
    throw new PermissionDenied(`${path} is not a directory`);
  }
  if (stats.mode & 0o022 && !(stats.uid === 0 && stats.mode & 0o1000)) {
    throw new PermissionDenied(
      `${path} can be written by other users (mode ${modeText(stats)}, owner ` +
        `${ownerName(stats.uid)}), who could replace what is in it: ${FIX}`,
    );
  }
}

/** The chain above `directory` passes, and `directory` itself is private. */
export function checkSocketDirectory(directory: string, uid = effectiveUid()): void {
  checkDirectoryChain(dirname(resolve(directory)), uid);
  const stats = lstatOrNull(directory);
  if (stats === null) {
    throw new PermissionDenied(`cannot check ${directory}: it does not exist`);
  }
  if (stats.isSymbolicLink()) {
    throw new PermissionDenied(
      `${directory} is a symlink: nxuskit's socket directory must be a real directory; ` +
        "remove the link and let nxuskit create it",
    );
  }
  if (!stats.isDirectory()) {
    throw new PermissionDenied(`${directory} is not a directory: move it away`);
  }
  if (stats.uid !== uid) {
    throw new PermissionDenied(
      `${directory} belongs to ${ownerName(stats.uid)}, not to you (${ownerName(uid)}): ` +
        `nxuskit will not use it; ${FIX}`,
    );
  }
  if (stats.mode & 0o077) {
    throw new PermissionDenied(openToOthers(directory, stats));
  }
  if (process.platform === "linux" && statfsSync(directory).type === FUSE_SUPER_MAGIC) {
    throw new PermissionDenied(
      `${directory} is on a FUSE file system, whose server can report any owner, so ` +
        `nxuskit cannot tell whose socket is in it: ${FIX}`,
    );
  }
}

function openToOthers(directory: string, stats: Stats): string {
  const problem = `${directory} is open to other users (mode ${modeText(stats)})`;
  if (basename(directory) === "nxuskit" && !(stats.mode & 0o1000)) {
    return `${problem}: run chmod 700 ${directory}`;
  }
  return (
    `${problem}: the socket needs a directory of its own, like ` +
    `${join(directory, "nxuskit", "nxuskitd.sock")} or the default in $XDG_RUNTIME_DIR ` +
    "(set it with NXUSKIT_SOCKET)"
  );
}

/**
 * The socket file at `path`, checked: a socket owned by this user. Null when nothing is
 * there (no daemon runs). Throws PermissionDenied naming the path and its owner.
 */
export function checkSocketFile(path: string, uid = effectiveUid()): Stats | null {
  const stats = lstatOrNull(path);
  if (stats === null) {
    return null;
  }
  if (!stats.isSocket()) {
    const what = stats.isSymbolicLink() ? "a symlink" : "not a socket";
    throw new PermissionDenied(
      `refusing ${path}: it is ${what}, so nothing was sent to it; remove it and start ` +
        "nxuskitd again",
    );
  }
  if (stats.uid !== uid) {
    throw new PermissionDenied(
      `refusing ${path}: the socket belongs to ${ownerName(stats.uid)}, not to you ` +
        `(${ownerName(uid)}), so nothing was sent to it; ${FIX}`,
    );
  }
  return stats;
}

/** After connect(): `path` is still the socket that was checked before. */
export function checkSameSocket(path: string, before: Stats): void {
  const now = lstatOrNull(path);
  if (now === null || now.ino !== before.ino || now.dev !== before.dev || now.uid !== before.uid) {
    throw new PermissionDenied(
      `refusing ${path}: it was replaced while connecting, so nothing was sent to it; ` +
        "run the command again",
    );
  }
}
