// bin/probe.js, the interface the cross-language test and the bench drive, against a
// real daemon; and keys crossing between this client and the Python one.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";

import { PACKAGE_DIR, beside, withDaemon } from "./helpers.mjs";

const run = promisify(execFile);
const PROBE = join(PACKAGE_DIR, "bin", "probe.js");
let sandbox;

before(async () => {
  sandbox = await withDaemon();
});

after(async () => {
  await sandbox.close();
});

function probe(...args) {
  return run(process.execPath, [PROBE, ...args], { env: sandbox.box.env }).then(
    (done) => ({ code: 0, ...done }),
    (failed) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
  );
}

function python(code) {
  return run(beside("python"), ["-c", code], { env: sandbox.box.env });
}

test("set prints nothing; resolve and remove print one JSON line", async () => {
  assert.deepEqual(await probe("set", "openai", "sk-probe-1"), { code: 0, stdout: "", stderr: "" });
  assert.equal(
    (await probe("resolve", "gpt")).stdout,
    '{"secret":"sk-probe-1","source":"store"}\n',
  );
  assert.equal((await probe("remove", "openai")).stdout, '{"removed":true}\n');
  assert.equal((await probe("remove", "openai")).stdout, '{"removed":false}\n');
});

test("errors are one line on stderr, `probe: <kind>: <message>`, exit 1", async () => {
  const missing = await probe("resolve", "groq");
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /^probe: not_authenticated: no credential for groq: .*\n$/);
  const usage = await probe("fly");
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /^probe: invalid_params: usage: probe set PROVIDER SECRET/);
});

test("bench prints n and the percentiles", async () => {
  await probe("set", "groq", "sk-bench");
  const { stdout } = await probe("bench", "groq", "50");
  const figures = JSON.parse(stdout);
  assert.deepEqual(Object.keys(figures), ["n", "p50_us", "p99_us", "mean_us"]);
  assert.equal(figures.n, 50);
  assert.ok(figures.p50_us > 0 && figures.p50_us <= figures.p99_us);
  await probe("remove", "groq");
});

test("hot prints the figures and how many resolves asked: none when nothing changed", async () => {
  await probe("set", "groq", "sk-hot");
  const { stdout } = await probe("hot", "groq", "200");
  const figures = JSON.parse(stdout);
  assert.deepEqual(Object.keys(figures), ["n", "p50_us", "p99_us", "mean_us", "asked"]);
  assert.equal(figures.n, 200);
  assert.equal(figures.asked, 0);
  const off = await run(process.execPath, [PROBE, "hot", "groq", "20"], {
    env: { ...sandbox.box.env, NXUSKIT_CLIENT_CACHE: "off" },
  });
  assert.equal(JSON.parse(off.stdout).asked, 20);
  await probe("remove", "groq");
});

test("a key set here resolves in Python, and one set in Python resolves here", async () => {
  await probe("set", "claude", "sk-ant-from-node");
  const seen = await python(
    'import nxuskit; r = nxuskit.auth_resolve("anthropic"); print(r.secret, r.source)',
  );
  assert.equal(seen.stdout, "sk-ant-from-node store\n");
  await python('import nxuskit; nxuskit.auth_set_credential("claude", "sk-ant-from-python")');
  assert.equal(
    (await probe("resolve", "claude")).stdout,
    '{"secret":"sk-ant-from-python","source":"store"}\n',
  );
  await python('import nxuskit; assert nxuskit.auth_remove_credential("claude")');
  assert.match((await probe("resolve", "claude")).stderr, /not_authenticated/);
});

test("a script that never closes its connection still exits when done", async () => {
  await probe("set", "xai", "sk-xai-exits");
  const script = `require(${JSON.stringify(join(PACKAGE_DIR, "dist", "index.js"))})
    .authResolve("xai").then((resolution) => console.log(resolution.source));`;
  // An idle connection that kept the event loop alive would hang here until the timeout.
  const done = await run(process.execPath, ["-e", script], {
    env: sandbox.box.env,
    timeout: 15_000,
  });
  assert.equal(done.stdout, "store\n");
  await probe("remove", "xai");
});
