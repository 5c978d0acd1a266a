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

import { createConnection, type Socket } from "node:net";
import { dirname } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";

import {
  DaemonUnavailable,
  InvalidArgument,
  NxuskitError,
  ProtocolError,
  VersionMismatch,
  errorFromWire,
} from "./errors";
import {
  HELLO,
  MAX_ANSWER_BYTES,
  MAX_MESSAGE_BYTES,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "./protocol";
import { wellFormed } from "./secret";
import type { Transport } from "./transport";
import {
  checkDirectoryChain,
  checkSameSocket,
  checkSocketDirectory,
  checkSocketFile,
  lexists,
} from "./trust";

/** The daemon closed the connection before answering (it may have run the request). */
export class Closed extends Error {
  constructor(readonly writeFailed: boolean) {
    super("the daemon closed the connection before answering");
  }
}

/** Nothing listens at the socket path: the caller may start a daemon. */
export class NotRunning extends DaemonUnavailable {}

/** Test seams; not part of the package's API. */
export interface OpenHooks {
  /** Awaited before the first write on the first socket (after it was read once). */
  beforeFirstWrite?: (socket: Socket) => Promise<unknown>;
}

interface Pending {
  readonly method: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
// How long a second connection waits for a refusal line before it writes.
const REFUSAL_GRACE_MS = 1000;

function encode(id: number, method: string, params: Record<string, unknown>): string {
  if (!wellFormed(params)) {
    throw new InvalidArgument(
      `a value passed to ${method} is not valid Unicode text (a lone surrogate): pass text`,
    );
  }
  const line = JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n";
  if (Buffer.byteLength(line, "utf8") > MAX_MESSAGE_BYTES) {
    throw new InvalidArgument(`the request to ${method} is over ${MAX_MESSAGE_BYTES} bytes`);
  }
  return line;
}

/** A connected socket to the daemon, verified; `call` sends requests over it. */
export class Connection implements Transport {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private rest: Buffer = EMPTY;
  private ended = false;
  private writeFailed = false;
  private refusal: NxuskitError | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.writeFailed ||= error.syscall === "write";
    });
    socket.on("close", () => this.fail(this.refusal ?? new Closed(this.writeFailed)));
    socket.unref();
  }

  get closed(): boolean {
    return this.ended;
  }

  call(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (this.ended) {
      return Promise.reject(this.refusal ?? new Closed(this.writeFailed));
    }
    const id = ++this.nextId;
    let line: string;
    try {
      line = encode(id, method, params);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(method), this.timeoutMs).unref();
      this.pending.set(id, { method, resolve, reject, timer });
      if (this.pending.size === 1) {
        this.socket.ref(); // an answer is due: keep the process alive until it comes
      }
      this.socket.write(line);
    });
  }

  close(): void {
    this.fail(new DaemonUnavailable(`the connection to nxuskitd at ${this.path} was closed`));
  }

  /**
   * Let the socket be read before the first write: once (`graceMs` 0), or until a line
   * or the end arrives, for at most `graceMs`. Throws the daemon's refusal, or Closed.
   */
  async settle(graceMs: number): Promise<void> {
    if (graceMs <= 0) {
      await nextTurn(); // reading starts on the next tick; the poll after it reads
      await nextTurn();
    } else if (!this.ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.wake = () => {
          this.wake = undefined;
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.ended) {
      throw this.refusal ?? new Closed(this.writeFailed);
    }
  }

  /** Say `daemon.hello`; VersionMismatch when the daemon's protocol is too old. */
  async hello(): Promise<Record<string, unknown>> {
    let info: unknown;
    try {
      info = await this.call(HELLO, { protocol: PROTOCOL_VERSION });
    } catch (error) {
      // A daemon that predates hello answers with a JSON-RPC error of its own kind.
      if (error instanceof ProtocolError || (error as Error).constructor === NxuskitError) {
        throw new VersionMismatch(
          `the daemon at ${this.path} does not speak nxuskit protocol ${PROTOCOL_VERSION}: ` +
            "restart it to run the installed version",
        );
      }
      throw error;
    }
    const version =
      typeof info === "object" && info !== null
        ? (info as { protocol?: unknown }).protocol
        : undefined;
    if (!Number.isInteger(version) || (version as number) < MIN_PROTOCOL_VERSION) {
      throw new VersionMismatch(
        `the daemon at ${this.path} speaks protocol ${String(version)}, this client needs ` +
          `${MIN_PROTOCOL_VERSION} or newer: restart nxuskitd to run the installed version`,
      );
    }
    return info as Record<string, unknown>;
  }

  private onData(chunk: Buffer): void {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    let end: number;
    while (!this.ended && (end = data.indexOf(NEWLINE, start)) >= 0) {
      this.onLine(data.toString("utf8", start, end));
      start = end + 1;
    }
    this.rest = start < data.length ? data.subarray(start) : EMPTY;
    if (this.rest.length > MAX_ANSWER_BYTES) {
      this.fail(new ProtocolError("the daemon sent an answer over the size limit"));
    }
    this.wake?.();
  }

  private onLine(text: string): void {
    if (!text.trim()) {
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.fail(new ProtocolError("the daemon sent a line that is not JSON"));
    }
    const answer = (typeof message === "object" && message !== null ? message : {}) as {
      id?: unknown;
      error?: unknown;
      result?: unknown;
    };
    const entry = typeof answer.id === "number" ? this.pending.get(answer.id) : undefined;
    if (entry === undefined) {
      if ((answer.id === null || answer.id === undefined) && answer.error != null) {
        // Refused (busy, another uid) or a framing error: the daemon closes now.
        this.refusal = errorFromWire(answer.error);
        return this.fail(this.refusal);
      }
      return this.fail(new ProtocolError("the daemon answered a request it was not sent"));
    }
    this.settled(answer.id as number, entry);
    if (answer.error != null) {
      entry.reject(errorFromWire(answer.error));
    } else {
      entry.resolve(answer.result);
    }
  }

  private settled(id: number, entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) {
      this.socket.unref(); // an idle connection must not keep the process alive
    }
  }

  private timedOut(method: string): void {
    this.fail(
      new DaemonUnavailable(
        `nxuskitd at ${this.path} did not answer ${method} in time (stopped or hung?); ` +
          "check it with: nxuskit-cli daemon status (NXUSKIT_TIMEOUT sets the wait)",
      ),
    );
  }

  /** End the connection: every request still waiting gets `error`. */
  private fail(error: Error): void {
    this.ended = true;
    this.socket.destroy();
    for (const [id, entry] of [...this.pending]) {
      this.settled(id, entry);
      entry.reject(error);
    }
    this.wake?.();
  }
}

function connectSocket(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DaemonUnavailable(`nxuskitd at ${path} did not accept the connection in time`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(path, error));
    });
  });
}

function connectError(path: string, error: NodeJS.ErrnoException): DaemonUnavailable {
  if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
    return new NotRunning(`no nxuskitd is running at ${path}`);
  }
  if (error.code === "EACCES") {
    return new DaemonUnavailable(
      `cannot connect to ${path}: permission denied (is it another user's daemon?)`,
    );
  }
  return new DaemonUnavailable(
    `cannot connect to nxuskitd at ${path}: ${error.code ?? error.message}`,
  );
}

async function attempt(
  path: string,
  timeoutMs: number,
  readFirst: boolean,
  hooks: OpenHooks,
): Promise<Connection> {
  const before = checkSocketFile(path);
  if (before === null) {
    throw new NotRunning(`no nxuskitd is running at ${path}`);
  }
  const socket = await connectSocket(path, timeoutMs);
  const connection = new Connection(path, socket, timeoutMs);
  try {
    checkSameSocket(path, before);
    await connection.settle(readFirst ? Math.min(timeoutMs, REFUSAL_GRACE_MS) : 0);
    if (!readFirst) {
      await hooks.beforeFirstWrite?.(socket);
    }
    await connection.hello();
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

/**
 * A verified connection to the daemon at `path`, hello said.
 *
 * Throws NotRunning (nothing there: the caller may start a daemon), PermissionDenied
 * (a directory or the socket is not this user's: nothing was sent), DaemonUnavailable,
 * DaemonBusy, VersionMismatch.
 */
export async function openConnection(
  path: string,
  timeoutMs: number,
  hooks: OpenHooks = {},
): Promise<Connection> {
  const directory = dirname(path);
  if (!lexists(directory)) {
    checkDirectoryChain(directory);
    throw new NotRunning(`no nxuskitd is running at ${path}`);
  }
  checkSocketDirectory(directory);
  for (const readFirst of [false, true]) {
    try {
      return await attempt(path, timeoutMs, readFirst, hooks);
    } catch (error) {
      if (!(error instanceof Closed)) {
        throw error;
      }
    }
  }
  throw new DaemonUnavailable(`nxuskitd at ${path} closed the connection at once; see its log`);
}
