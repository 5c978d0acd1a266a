/**
 * One verified connection to nxuskitd's Unix socket.
 *
 * `openConnection(path, timeoutMs)` checks the directories and the socket (`trust.ts`),
 * connects, and says `daemon.hello`; only then may anything else be sent. Requests are
 * pipelined: each gets its own id, and answers are matched by it.
 *
 * A daemon that refuses a connection (busy, or serving another uid) writes one line with
 * `"id": null` and closes at once. If that happens before this client's first write,
 * the write fails with EPIPE, and Node then discards the socket with the refusal still
 * unread in it. So the first write waits until the socket has been read once, and when
 * it fails all the same, a second connection reads before it writes.
 */
import { type Socket } from "node:net";
import { DaemonUnavailable } from "./errors";
import type { Transport } from "./transport";
/** The daemon closed the connection before answering (it may have run the request). */
export declare class Closed extends Error {
    readonly writeFailed: boolean;
    constructor(writeFailed: boolean);
}
/** Nothing listens at the socket path: the caller may start a daemon. */
export declare class NotRunning extends DaemonUnavailable {
}
/** Test seams; not part of the package's API. */
export interface OpenHooks {
    /** Awaited before the first write on the first socket (after it was read once). */
    beforeFirstWrite?: (socket: Socket) => Promise<unknown>;
}
/** A connected socket to the daemon, verified; `call` sends requests over it. */
export declare class Connection implements Transport {
    readonly path: string;
    private readonly socket;
    private readonly timeoutMs;
    private readonly pending;
    private nextId;
    private rest;
    private ended;
    private writeFailed;
    private refusal;
    private wake;
    constructor(path: string, socket: Socket, timeoutMs: number);
    get closed(): boolean;
    call(method: string, params: Record<string, unknown>): Promise<unknown>;
    close(): void;
    /**
     * Let the socket be read before the first write: once (`graceMs` 0), or until a line
     * or the end arrives, for at most `graceMs`. Throws the daemon's refusal, or Closed.
     */
    settle(graceMs: number): Promise<void>;
    /** Say `daemon.hello`; VersionMismatch when the daemon's protocol is too old. */
    hello(): Promise<Record<string, unknown>>;
    private onData;
    private onLine;
    private settled;
    private timedOut;
    /** End the connection: every request still waiting gets `error`. */
    private fail;
}
/**
 * A verified connection to the daemon at `path`, hello said.
 *
 * Throws NotRunning (nothing there: the caller may start a daemon), PermissionDenied
 * (a directory or the socket is not this user's: nothing was sent), DaemonUnavailable,
 * DaemonBusy, VersionMismatch.
 */
export declare function openConnection(path: string, timeoutMs: number, hooks?: OpenHooks): Promise<Connection>;
