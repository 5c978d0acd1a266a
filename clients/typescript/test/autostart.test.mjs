// Autostart: Node cannot flock, so the client runs `nxuskit-cli daemon start`, which
// takes the same start lock as the Python client. Concurrent Node clients, Node
// processes and a Python client start exactly one daemon, with a clean environment.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";

import {
  NXUSKITD,
  PACKAGE_DIR,
  beside,
  daemonPids,
  makeSandbox,
  nxuskit,
  reap,
} from "./helpers.mjs";

const run = promisify(execFile);

function autostartSandbox() {
  const box = makeSandbox();
  delete box.env.NXUSKIT_AUTOSTART;
  if (NXUSKITD.includes("/")) {
    box.env.PATH = `${dirname(NXUSKITD)}${delimiter}${box.env.PATH ?? ""}`;
  }
  return box;
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("no error");
}

test("concurrent clients in several processes and languages start exactly one daemon", async () => {
  const box = autostartSandbox();
  const env = { ...box.env, OPENAI_API_KEY: "sk-app-secret-not-for-the-daemon" };
  const clients = Array.from({ length: 4 }, () => new nxuskit.Client({ env }));
  try {
    const probe = join(PACKAGE_DIR, "bin", "probe.js");
    const python = `import nxuskit; print(nxuskit.auth_status("groq").status)`;
    const outcomes = await Promise.all([
      ...clients.map((client) => client.authStatus("groq")),
      run(process.execPath, [probe, "remove", "groq"], { env }),
      run(process.execPath, [probe, "remove", "groq"], { env }),
      run(beside("python"), ["-c", python], { env }),
    ]);
    assert.deepEqual(
      outcomes.slice(0, 4).map((status) => status.status),
      Array(4).fill("not_authenticated"),
    );
    assert.deepEqual(
      outcomes.slice(4, 6).map((done) => done.stdout.trim()),
      Array(2).fill('{"removed":false}'),
    );
    assert.equal(outcomes[6].stdout.trim(), "not_authenticated");
    const pids = daemonPids(box);
    assert.equal(pids.length, 1, `daemons: ${pids}`);
    const status = await clients[0].daemonStatus();
    assert.equal(status.started_by, "autostart");
    assert.equal(status.pid, pids[0]);
    // One start, not several of which all but one gave up on the daemon's own lock.
    const log = readFileSync(join(box.env.XDG_STATE_HOME, "nxuskit", "nxuskitd.log"), "utf8");
    assert.equal(log.match(/serving unix:/g)?.length, 1, log);
    assert.ok(!log.includes("already serves"), log);
    const environ = readFileSync(`/proc/${pids[0]}/environ`, "latin1");
    assert.ok(!environ.includes("OPENAI_API_KEY"), "the app's key reached the daemon");
  } finally {
    clients.forEach((client) => client.close());
    await reap(box);
    box.remove();
  }
});

test("NXUSKIT_AUTOSTART=0 starts nothing and says how to start it", async () => {
  const box = autostartSandbox();
  try {
    const client = new nxuskit.Client({ env: { ...box.env, NXUSKIT_AUTOSTART: "0" } });
    const error = await caught(client.authStatus("groq"));
    assert.ok(error instanceof nxuskit.DaemonUnavailable, String(error));
    assert.match(error.message, /not running at .*NXUSKIT_AUTOSTART=0.*nxuskit-cli daemon start/);
    assert.deepEqual(daemonPids(box), []);
  } finally {
    box.remove();
  }
});

test("without nxuskit-cli the error says so and how to start the daemon", async () => {
  const box = autostartSandbox();
  try {
    const startCommand = ["nxuskit-cli-that-is-not-installed", "daemon", "start"];
    const client = new nxuskit.Client({ env: box.env, startCommand });
    const error = await caught(client.authStatus("groq"));
    assert.ok(error instanceof nxuskit.DaemonUnavailable, String(error));
    assert.match(error.message, /nxuskit-cli-that-is-not-installed is not on PATH/);
    assert.match(error.message, /start it with `nxuskitd`/);
  } finally {
    box.remove();
  }
});
