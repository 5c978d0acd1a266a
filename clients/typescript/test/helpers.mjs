// Shared test support: a private XDG sandbox, a real nxuskitd in it, and small fakes.
//
// The daemon is the program named by NXUSKITD (default: nxuskitd on PATH), started with
// `--store file` in a sandbox under /tmp (AF_UNIX paths must stay short).
import { spawn, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  closeSync,
} from "node:fs";
import { createConnection } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
export const nxuskit = require("../dist/index.js");
export const PACKAGE_DIR = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const CONFORMANCE = join(PACKAGE_DIR, "..", "conformance");
export const NXUSKITD = process.env.NXUSKITD || "nxuskitd";
export const CI = process.env.CI === "true";

const providers = JSON.parse(readFileSync(join(CONFORMANCE, "providers.json"), "utf8")).providers;
/** Every variable a provider reads: none may leak from the developer's environment. */
export const PROVIDER_VARIABLES = providers
  .flatMap((entry) => [entry.env, entry.host_env])
  .filter(Boolean);

/** Poll `condition` until true or `timeoutMs` passes; its last value. */
export async function waitUntil(condition, timeoutMs = 10_000, stepMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value || Date.now() > deadline) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Whether something accepts connections at `path` (nothing is sent). */
export function answers(path) {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A fresh sandbox: run/ (0700), data/, config/, state/, and the env pointing there. */
export function makeSandbox() {
  const root = mkdtempSync("/tmp/nxk-ts-");
  mkdirSync(join(root, "run"), { mode: 0o700 });
  for (const name of ["data", "config", "state"]) {
    mkdirSync(join(root, name));
  }
  const env = { ...process.env };
  for (const name of [
    ...PROVIDER_VARIABLES,
    "NXUSKIT_SOCKET",
    "NXUSKIT_STORE",
    "NXUSKIT_TIMEOUT",
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
  ]) {
    delete env[name];
  }
  Object.assign(env, {
    XDG_RUNTIME_DIR: join(root, "run"),
    XDG_DATA_HOME: join(root, "data"),
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_STATE_HOME: join(root, "state"),
    NXUSKIT_AUTOSTART: "0",
  });
  const socketPath = join(root, "run", "nxuskit", "nxuskitd.sock");
  return {
    root,
    env,
    socketPath,
    configFile: join(root, "config", "nxuskit", "config.toml"),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Start nxuskitd in `box` and wait until it answers; `stop()` ends it. */
export async function startDaemon(box, ...args) {
  const log = openSync(join(box.root, "nxuskitd.log"), "a");
  const child = spawn(NXUSKITD, ["--store", "file", ...args], {
    env: box.env,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal));
    child.once("error", (error) => resolve(error)); // not installed: said below
  });
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const up = await waitUntil(async () => gone || (await answers(box.socketPath)), 20_000);
  if (!up || gone) {
    throw new Error(
      `nxuskitd did not start: ${readFileSync(join(box.root, "nxuskitd.log"), "utf8")}`,
    );
  }
  return {
    pid: child.pid,
    async stop(signal = "SIGTERM") {
      if (!gone) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

/** Live nxuskitd processes of `box` (by their argv or environment), sorted. */
export function daemonPids(box) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const read = (name) => {
      try {
        return readFileSync(`/proc/${entry}/${name}`, "latin1");
      } catch {
        return "";
      }
    };
    const cmdline = read("cmdline");
    if (!cmdline.includes("nxuskitd") || read("status").includes("State:\tZ")) {
      continue;
    }
    if (cmdline.includes(box.root) || read("environ").includes(box.root)) {
      found.push(Number(entry));
    }
  }
  return found.sort((a, b) => a - b);
}

/** Stop every nxuskitd of `box` (by pid) and wait until they are gone. */
export async function reap(box) {
  for (const pid of daemonPids(box)) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await waitUntil(() => daemonPids(box).length === 0, 10_000);
}

/** A sandbox with a running daemon for one test file; `close()` cleans up. */
export async function withDaemon(...args) {
  const box = makeSandbox();
  const daemon = await startDaemon(box, ...args);
  return {
    box,
    daemon,
    close: async () => {
      await daemon.stop();
      await reap(box);
      box.remove();
    },
  };
}

/** Why tests cannot act as uid 65534, or null when they can (root with setpriv). */
export function cannotSwitchUser() {
  if (process.geteuid() !== 0) {
    return "needs root to act as another uid (setpriv)";
  }
  const probe = spawnSync("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    process.execPath,
    "-e",
    "0",
  ]);
  if (probe.error !== undefined || probe.status !== 0) {
    return "setpriv cannot run node as uid 65534 (apt-get install util-linux)";
  }
  return null;
}

/** The TypeScript compiler of this package's dev dependencies, or null. */
export function tscPath() {
  const path = join(PACKAGE_DIR, "node_modules", "typescript", "bin", "tsc");
  try {
    readFileSync(path);
    return path;
  } catch {
    return null;
  }
}

/** A program beside NXUSKITD (the venv's nxuskit-cli and python), else its bare name. */
export function beside(name) {
  return NXUSKITD.includes("/") ? join(dirname(NXUSKITD), name) : name;
}
