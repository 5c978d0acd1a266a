// Trust before sending anything: the directory chain, the private socket directory and
// the socket's owner (this client's stand-in for SO_PEERCRED). The attacker is uid 65534
// (setpriv, when the tests run as root): its fake daemon records every byte it receives
// and answers every request with a forged key.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";

import { cannotSwitchUser, makeSandbox, nxuskit, waitUntil } from "./helpers.mjs";

const FORGED = "sk-forged-by-the-attacker";
const SECRET = "sk-victim-key-must-stay-home";
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
const cleanups = [];
after(() => cleanups.reverse().forEach((cleanup) => cleanup()));

const FAKE_DAEMON = `
const fs = require("node:fs"), net = require("node:net");
const [path, record, forged] = process.argv.slice(1);
net.createServer((socket) => {
  socket.on("data", (chunk) => {
    fs.appendFileSync(record, chunk);
    for (const line of String(chunk).split("\\n").filter(Boolean)) {
      const id = JSON.parse(line).id;
      const result = { protocol: 1, provider: "openai", secret: forged, source: "store",
        auth_method: "api_key", expires_at: null, stored: true, removed: true };
      socket.write(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\\n");
    }
  });
}).listen(path, () => { fs.chmodSync(path, 0o777); process.stdout.write("listening\\n"); });
`;

/** A directory like /tmp (root, 1777), an attacker's 0700 directory in it, and its daemon. */
async function attacker() {
  const shared = mkdtempSync("/tmp/nxk-ts-shared-");
  chmodSync(shared, 0o1777);
  cleanups.push(() => rmSync(shared, { recursive: true, force: true }));
  const home = join(shared, "attacker");
  const made = spawnSync("setpriv", [...NOBODY, "mkdir", "-m", "0700", home]);
  assert.equal(made.status, 0, String(made.stderr));
  const socketPath = join(home, "s.sock");
  const record = join(home, "received");
  const server = spawn(
    "setpriv",
    [...NOBODY, process.execPath, "-e", FAKE_DAEMON, socketPath, record, FORGED],
    {
      cwd: "/",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  cleanups.push(() => server.kill());
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk));
  assert.ok(await waitUntil(() => output.includes("listening")), "the fake daemon did not start");
  return { socketPath, received: () => (existsSync(record) ? readFileSync(record, "utf8") : "") };
}

/** What a victim's set and resolve get from the socket `env` leads to. */
async function victim(env) {
  const client = new nxuskit.Client({ env });
  const outcome = {};
  for (const [name, call] of [
    ["set", () => client.authSetCredential("openai", SECRET)],
    ["resolve", () => client.authResolve("openai")],
  ]) {
    try {
      outcome[name] = ["ok", await call()];
    } catch (error) {
      outcome[name] = [error.constructor.name, error.message];
    }
  }
  client.close();
  assert.ok(!JSON.stringify(outcome).includes(FORGED), JSON.stringify(outcome));
  return outcome;
}

const skipNobody = cannotSwitchUser();

test(
  "a daemon of another user, in a directory of theirs, gets nothing",
  { skip: skipNobody ?? false },
  async () => {
    const fake = await attacker();
    const box = makeSandbox();
    cleanups.push(box.remove);
    const outcome = await victim({ ...box.env, NXUSKIT_SOCKET: fake.socketPath });
    for (const name of ["set", "resolve"]) {
      assert.equal(outcome[name][0], "PermissionDenied", JSON.stringify(outcome));
      assert.match(outcome[name][1], /uid 65534/);
      assert.ok(outcome[name][1].includes(dirname(fake.socketPath)));
    }
    assert.equal(fake.received(), "");
  },
);

test(
  "another user's socket inside our own private directory is refused before a byte is sent",
  { skip: skipNobody ?? false },
  async () => {
    const fake = await attacker();
    const box = makeSandbox();
    cleanups.push(box.remove);
    mkdirSync(dirname(box.socketPath), { mode: 0o700 });
    // Only root can put it there; the socket still leads to the attacker's listener.
    renameSync(fake.socketPath, box.socketPath);
    const outcome = await victim(box.env);
    for (const name of ["set", "resolve"]) {
      assert.equal(outcome[name][0], "PermissionDenied", JSON.stringify(outcome));
      assert.match(outcome[name][1], /belongs to uid 65534/);
      assert.match(outcome[name][1], /nothing was sent/);
      assert.ok(outcome[name][1].includes(box.socketPath));
    }
    assert.equal(fake.received(), "");
  },
);

test(
  "a symlink in place of the socket is refused, wherever it leads",
  { skip: skipNobody ?? false },
  async () => {
    const fake = await attacker();
    const box = makeSandbox();
    cleanups.push(box.remove);
    mkdirSync(dirname(box.socketPath), { mode: 0o700 });
    symlinkSync(fake.socketPath, box.socketPath);
    const outcome = await victim(box.env);
    assert.equal(outcome.set[0], "PermissionDenied");
    assert.match(outcome.set[1], /is a symlink/);
    assert.equal(fake.received(), "");
  },
);

test("a socket directory open to others, or a parent others can write, is refused", async () => {
  const box = makeSandbox();
  cleanups.push(box.remove);
  mkdirSync(dirname(box.socketPath), { mode: 0o700 });
  chmodSync(dirname(box.socketPath), 0o755);
  const open = await victim(box.env);
  assert.equal(open.set[0], "PermissionDenied");
  assert.match(open.set[1], /open to other users \(mode 0755\): run chmod 700/);
  chmodSync(dirname(box.socketPath), 0o700);
  chmodSync(join(box.root, "run"), 0o777);
  const parent = await victim(box.env);
  assert.equal(parent.resolve[0], "PermissionDenied");
  assert.match(parent.resolve[1], /can be written by other users \(mode 0777/);
});
