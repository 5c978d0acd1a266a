/**
 * Starting the daemon when none runs.
 *
 * The Python client takes an exclusive `flock` on `<socket>.start.lock` so that
 * concurrent clients start exactly one daemon. Node's standard library cannot flock, so
 * this client does not start nxuskitd itself: it runs `nxuskit-cli daemon start`, which
 * takes that same lock (or starts the installed service), waits until the socket
 * answers, and exits. Node clients, Python clients and the CLI together thus start one
 * daemon. The command gets a clean environment (never the app's provider variables).
 * `NXUSKIT_AUTOSTART=0` (or `false`, `no`) turns this off; so does
 * `new Client({ autostart: false })`.
 */
import type { Environment } from "./paths";
/** The command that starts the daemon under the shared start lock. */
export declare const START_COMMAND: readonly string[];
/** Variables the command inherits, besides every `XDG_*`, `LC_*` and `NXUSKIT_*` one. */
export declare const DAEMON_ENVIRONMENT: ReadonlySet<string>;
/** Whether a client may start the daemon (`NXUSKIT_AUTOSTART` is not 0/false/no). */
export declare function autostartEnabled(env?: Environment): boolean;
/** The environment the start command gets: what the daemon needs, no provider secrets. */
export declare function daemonEnvironment(env: Environment): Record<string, string>;
/**
 * Start nxuskitd for the socket at `path` with `command` (default `START_COMMAND`) and
 * return once it has answered there. Throws DaemonUnavailable saying what went wrong.
 */
export declare function startDaemon(path: string, env: Environment, command?: readonly string[]): Promise<void>;
