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

import { execFile } from "node:child_process";

import { DaemonUnavailable } from "./errors";
import type { Environment } from "./paths";

/** The command that starts the daemon under the shared start lock. */
export const START_COMMAND: readonly string[] = ["nxuskit-cli", "daemon", "start"];

// The CLI waits up to 10 s for the daemon to answer; leave it room for its own start.
const START_TIMEOUT_MS = 30_000;

/** Variables the command inherits, besides every `XDG_*`, `LC_*` and `NXUSKIT_*` one. */
export const DAEMON_ENVIRONMENT: ReadonlySet<string> = new Set([
  "HOME",
  "USER",
  "LOGNAME",
  "PATH",
  "SHELL",
  "TMPDIR",
  "TZ",
  "LANG",
  "LANGUAGE",
  // the session bus and a display: the OS keyring and its unlock prompt need them
  "DBUS_SESSION_BUS_ADDRESS",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "XAUTHORITY",
  // OAuth refreshes go out over HTTPS: proxies and CA bundles must still apply
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "PYTHON_KEYRING_BACKEND",
]);

/** Whether a client may start the daemon (`NXUSKIT_AUTOSTART` is not 0/false/no). */
export function autostartEnabled(env: Environment = process.env): boolean {
  const value = (env.NXUSKIT_AUTOSTART ?? "1").trim().toLowerCase();
  return !["0", "false", "no"].includes(value);
}

/** The environment the start command gets: what the daemon needs, no provider secrets. */
export function daemonEnvironment(env: Environment): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const wanted = DAEMON_ENVIRONMENT.has(name) || /^(XDG_|LC_|NXUSKIT_)/.test(name);
    if (wanted && value !== undefined) {
      clean[name] = value;
    }
  }
  return clean;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

/**
 * Start nxuskitd for the socket at `path` with `command` (default `START_COMMAND`) and
 * return once it has answered there. Throws DaemonUnavailable saying what went wrong.
 */
export function startDaemon(
  path: string,
  env: Environment,
  command: readonly string[] = START_COMMAND,
): Promise<void> {
  const [program, ...args] = command;
  const options = {
    env: { ...daemonEnvironment(env), NXUSKIT_SOCKET: path },
    timeout: START_TIMEOUT_MS,
    killSignal: "SIGKILL" as const,
  };
  return new Promise((resolve, reject) => {
    const child = execFile(program as string, args, options, (error, _stdout, stderr) => {
      if (error === null) {
        return resolve();
      }
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      const detail = missing
        ? `${program} is not on PATH`
        : lastLine(String(stderr)) || error.message;
      reject(
        new DaemonUnavailable(
          `nxuskitd is not running at ${path}, and \`${command.join(" ")}\` could not start ` +
            `it (${detail}): start it with \`nxuskitd\` or \`nxuskit-cli daemon start\` ` +
            "(or `nxuskit-cli daemon install` for a service)",
        ),
      );
    });
    child.stdin?.end();
  });
}
