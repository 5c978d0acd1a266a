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
import { type Stats } from "node:fs";
/** `uid 1000 (ada)`, or `uid 1000` when /etc/passwd does not name it. */
export declare function ownerName(uid: number): string;
/** Whether anything (a dangling symlink too) is at `path`. */
export declare function lexists(path: string): boolean;
/**
 * Check every directory from `/` down to `directory`; a missing one ends the walk (its
 * parent was checked, and whoever creates it creates it for us).
 * Throws PermissionDenied naming the first directory that fails.
 */
export declare function checkDirectoryChain(directory: string, uid?: number): void;
/** The chain above `directory` passes, and `directory` itself is private. */
export declare function checkSocketDirectory(directory: string, uid?: number): void;
/**
 * The socket file at `path`, checked: a socket owned by this user. Null when nothing is
 * there (no daemon runs). Throws PermissionDenied naming the path and its owner.
 */
export declare function checkSocketFile(path: string, uid?: number): Stats | null;
/** After connect(): `path` is still the socket that was checked before. */
export declare function checkSameSocket(path: string, before: Stats): void;
