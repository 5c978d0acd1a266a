"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.Connection = exports.NotRunning = exports.Closed = void 0;
exports.openConnection = openConnection;
const node_net_1 = require("node:net");
const node_path_1 = require("node:path");
const promises_1 = require("node:timers/promises");
const errors_1 = require("./errors");
const protocol_1 = require("./protocol");
const secret_1 = require("./secret");
const trust_1 = require("./trust");
/** The daemon closed the connection before answering (it may have run the request). */
class Closed extends Error {
    writeFailed;
    constructor(writeFailed) {
        super("the daemon closed the connection before answering");
        this.writeFailed = writeFailed;
    }
}
exports.Closed = Closed;
/** Nothing listens at the socket path: the caller may start a daemon. */
class NotRunning extends errors_1.DaemonUnavailable {
}
exports.NotRunning = NotRunning;
const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
// How long a second connection waits for a refusal line before it writes.
const REFUSAL_GRACE_MS = 1000;
function encode(id, method, params) {
    if (!(0, secret_1.wellFormed)(params)) {
        throw new errors_1.InvalidArgument(`a value passed to ${method} is not valid Unicode text (a lone surrogate): pass text`);
    }
    const line = JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n";
    if (Buffer.byteLength(line, "utf8") > protocol_1.MAX_MESSAGE_BYTES) {
        throw new errors_1.InvalidArgument(`the request to ${method} is over ${protocol_1.MAX_MESSAGE_BYTES} bytes`);
    }
    return line;
}
/** A connected socket to the daemon, verified; `call` sends requests over it. */
class Connection {
    path;
    socket;
    timeoutMs;
    pending = new Map();
    nextId = 0;
    rest = EMPTY;
    ended = false;
    writeFailed = false;
    refusal;
    wake;
    constructor(path, socket, timeoutMs) {
        this.path = path;
        this.socket = socket;
        this.timeoutMs = timeoutMs;
        socket.on("data", (chunk) => this.onData(chunk));
        socket.on("error", (error) => {
            this.writeFailed ||= error.syscall === "write";
        });
        socket.on("close", () => this.fail(this.refusal ?? new Closed(this.writeFailed)));
        socket.unref();
    }
    get closed() {
        return this.ended;
    }
    call(method, params) {
        if (this.ended) {
            return Promise.reject(this.refusal ?? new Closed(this.writeFailed));
        }
        const id = ++this.nextId;
        let line;
        try {
            line = encode(id, method, params);
        }
        catch (error) {
            return Promise.reject(error);
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
    close() {
        this.fail(new errors_1.DaemonUnavailable(`the connection to nxuskitd at ${this.path} was closed`));
    }
    /**
     * Let the socket be read before the first write: once (`graceMs` 0), or until a line
     * or the end arrives, for at most `graceMs`. Throws the daemon's refusal, or Closed.
     */
    async settle(graceMs) {
        if (graceMs <= 0) {
            await (0, promises_1.setImmediate)(); // reading starts on the next tick; the poll after it reads
            await (0, promises_1.setImmediate)();
        }
        else if (!this.ended) {
            await new Promise((resolve) => {
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
    async hello() {
        let info;
        try {
            info = await this.call(protocol_1.HELLO, { protocol: protocol_1.PROTOCOL_VERSION });
        }
        catch (error) {
            // A daemon that predates hello answers with a JSON-RPC error of its own kind.
            if (error instanceof errors_1.ProtocolError || error.constructor === errors_1.NxuskitError) {
                throw new errors_1.VersionMismatch(`the daemon at ${this.path} does not speak nxuskit protocol ${protocol_1.PROTOCOL_VERSION}: ` +
                    "restart it to run the installed version");
            }
            throw error;
        }
        const version = typeof info === "object" && info !== null
            ? info.protocol
            : undefined;
        if (!Number.isInteger(version) || version < protocol_1.MIN_PROTOCOL_VERSION) {
            throw new errors_1.VersionMismatch(`the daemon at ${this.path} speaks protocol ${String(version)}, this client needs ` +
                `${protocol_1.MIN_PROTOCOL_VERSION} or newer: restart nxuskitd to run the installed version`);
        }
        return info;
    }
    onData(chunk) {
        const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
        let start = 0;
        let end;
        while (!this.ended && (end = data.indexOf(NEWLINE, start)) >= 0) {
            this.onLine(data.toString("utf8", start, end));
            start = end + 1;
        }
        this.rest = start < data.length ? data.subarray(start) : EMPTY;
        if (this.rest.length > protocol_1.MAX_ANSWER_BYTES) {
            this.fail(new errors_1.ProtocolError("the daemon sent an answer over the size limit"));
        }
        this.wake?.();
    }
    onLine(text) {
        if (!text.trim()) {
            return;
        }
        let message;
        try {
            message = JSON.parse(text);
        }
        catch {
            return this.fail(new errors_1.ProtocolError("the daemon sent a line that is not JSON"));
        }
        const answer = (typeof message === "object" && message !== null ? message : {});
        const entry = typeof answer.id === "number" ? this.pending.get(answer.id) : undefined;
        if (entry === undefined) {
            if ((answer.id === null || answer.id === undefined) && answer.error != null) {
                // Refused (busy, another uid) or a framing error: the daemon closes now.
                this.refusal = (0, errors_1.errorFromWire)(answer.error);
                return this.fail(this.refusal);
            }
            return this.fail(new errors_1.ProtocolError("the daemon answered a request it was not sent"));
        }
        this.settled(answer.id, entry);
        if (answer.error != null) {
            entry.reject((0, errors_1.errorFromWire)(answer.error));
        }
        else {
            entry.resolve(answer.result);
        }
    }
    settled(id, entry) {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        if (this.pending.size === 0) {
            this.socket.unref(); // an idle connection must not keep the process alive
        }
    }
    timedOut(method) {
        this.fail(new errors_1.DaemonUnavailable(`nxuskitd at ${this.path} did not answer ${method} in time (stopped or hung?); ` +
            "check it with: nxuskit-cli daemon status (NXUSKIT_TIMEOUT sets the wait)"));
    }
    /** End the connection: every request still waiting gets `error`. */
    fail(error) {
        this.ended = true;
        this.socket.destroy();
        for (const [id, entry] of [...this.pending]) {
            this.settled(id, entry);
            entry.reject(error);
        }
        this.wake?.();
    }
}
exports.Connection = Connection;
function connectSocket(path, timeoutMs) {
    return new Promise((resolve, reject) => {
        const socket = (0, node_net_1.createConnection)({ path });
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new errors_1.DaemonUnavailable(`nxuskitd at ${path} did not accept the connection in time`));
        }, timeoutMs);
        socket.once("connect", () => {
            clearTimeout(timer);
            resolve(socket);
        });
        socket.once("error", (error) => {
            clearTimeout(timer);
            reject(connectError(path, error));
        });
    });
}
function connectError(path, error) {
    if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        return new NotRunning(`no nxuskitd is running at ${path}`);
    }
    if (error.code === "EACCES") {
        return new errors_1.DaemonUnavailable(`cannot connect to ${path}: permission denied (is it another user's daemon?)`);
    }
    return new errors_1.DaemonUnavailable(`cannot connect to nxuskitd at ${path}: ${error.code ?? error.message}`);
}
async function attempt(path, timeoutMs, readFirst, hooks) {
    const before = (0, trust_1.checkSocketFile)(path);
    if (before === null) {
        throw new NotRunning(`no nxuskitd is running at ${path}`);
    }
    const socket = await connectSocket(path, timeoutMs);
    const connection = new Connection(path, socket, timeoutMs);
    try {
        (0, trust_1.checkSameSocket)(path, before);
        await connection.settle(readFirst ? Math.min(timeoutMs, REFUSAL_GRACE_MS) : 0);
        if (!readFirst) {
            await hooks.beforeFirstWrite?.(socket);
        }
        await connection.hello();
    }
    catch (error) {
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
async function openConnection(path, timeoutMs, hooks = {}) {
    const directory = (0, node_path_1.dirname)(path);
    if (!(0, trust_1.lexists)(directory)) {
        (0, trust_1.checkDirectoryChain)(directory);
        throw new NotRunning(`no nxuskitd is running at ${path}`);
    }
    (0, trust_1.checkSocketDirectory)(directory);
    for (const readFirst of [false, true]) {
        try {
            return await attempt(path, timeoutMs, readFirst, hooks);
        }
        catch (error) {
            if (!(error instanceof Closed)) {
                throw error;
            }
        }
    }
    throw new errors_1.DaemonUnavailable(`nxuskitd at ${path} closed the connection at once; see its log`);
}
