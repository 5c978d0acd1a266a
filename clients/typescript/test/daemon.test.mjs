// The client against a real nxuskitd in a private sandbox: the whole credential API,
// precedence with the environment, errors, reconnecting after a restart, pipelining on
// one connection, timeouts, and config.toml providers through provider.list.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { after, before, test } from "node:test";

import { nxuskit, reap, startDaemon, withDaemon } from "./helpers.mjs";

let sandbox;
let box;

before(async () => {
  sandbox = await withDaemon();
  box = sandbox.box;
});

after(async () => {
  await sandbox.close();
});

function client(extra = {}, options = {}) {
  return new nxuskit.Client({ env: { ...box.env, ...extra }, ...options });
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("no error");
}

test("set, resolve, status and remove through the daemon", async () => {
  const c = client();
  try {
    await c.authSetCredential("openai", "sk-daemon-roundtrip-1");
    const resolution = await c.authResolve("GPT ");
    assert.equal(resolution.provider, "openai");
    assert.equal(resolution.secret, "sk-daemon-roundtrip-1");
    assert.equal(resolution.source, "store");
    assert.equal(resolution.authMethod, "api_key");
    const status = await c.authStatus("openai");
    assert.deepEqual(
      [status.provider, status.status, status.source, [...status.authMethods]],
      ["openai", "authenticated", "store", ["api_key"]],
    );
    const all = await c.authStatusAll();
    assert.equal(all.find((entry) => entry.provider === "openai").status, "authenticated");
    assert.equal(all.find((entry) => entry.provider === "ollama").status, "not_required");
    assert.equal(await c.authRemoveCredential("openai"), true);
    assert.equal(await c.authRemoveCredential("openai"), false);
    assert.equal((await c.authStatus("openai")).status, "not_authenticated");
  } finally {
    c.close();
  }
});

test("precedence: explicit, then the env variable, then the store", async () => {
  const c = client({ OPENAI_API_KEY: "sk-from-env" });
  try {
    await c.authSetCredential("openai", "sk-from-store");
    assert.deepEqual(
      [
        (await c.authResolve("openai", "sk-explicit")).source,
        (await c.authResolve("openai")).source,
      ],
      ["explicit", "env"],
    );
    assert.equal((await c.authResolve("openai")).secret, "sk-from-env");
    assert.equal((await c.authStatus("openai")).source, "env");
    const plain = client({ OPENAI_API_KEY: "" });
    assert.equal((await plain.authResolve("openai")).secret, "sk-from-store");
    plain.close();
    await c.authRemoveCredential("openai");
  } finally {
    c.close();
  }
});

test("errors: unknown provider, not authenticated, and the daemon's own refusals", async () => {
  const c = client();
  try {
    const unknown = await caught(c.authResolve("no-such-provider"));
    assert.ok(unknown instanceof nxuskit.UnknownProvider);
    assert.match(unknown.message, /unknown provider 'no-such-provider'/);
    const missing = await caught(c.authResolve("groq"));
    assert.ok(missing instanceof nxuskit.NotAuthenticated);
    assert.match(missing.message, /GROQ_API_KEY/);
    const local = await caught(c.authSetCredential("ollama", "sk-not-for-ollama"));
    assert.ok(local instanceof nxuskit.InvalidArgument);
    assert.match(local.message, /does not take an API key/);
    const orphan = await caught(c.authRemoveCredential("never-stored"));
    assert.ok(orphan instanceof nxuskit.UnknownProvider);
  } finally {
    c.close();
  }
});

test("a lone surrogate is refused before it is sent, and the connection stays usable", async () => {
  const c = client();
  try {
    const error = await caught(c.authRemoveCredential("orphan\ud800"));
    assert.ok(error instanceof nxuskit.InvalidArgument, String(error));
    assert.match(error.message, /lone surrogate/);
    assert.equal((await c.authStatus("groq")).status, "not_authenticated");
  } finally {
    c.close();
  }
});

test("concurrent calls share one connection, answers matched to their calls", async () => {
  const c = client();
  try {
    await c.authSetCredential("groq", "sk-groq-pipelined");
    const names = Array.from({ length: 200 }, (_, i) => (i % 2 ? "groq" : "openai"));
    const outcomes = await Promise.allSettled(names.map((name) => c.authResolve(name)));
    outcomes.forEach((outcome, i) => {
      if (names[i] === "groq") {
        assert.equal(outcome.value.secret, "sk-groq-pipelined");
      } else {
        assert.ok(outcome.reason instanceof nxuskit.NotAuthenticated);
      }
    });
    assert.equal((await c.daemonStatus()).connections, 1);
    await c.authRemoveCredential("groq");
  } finally {
    c.close();
  }
});

test("a hung daemon times out; the next call after it recovers works", async () => {
  const c = client({}, { timeout: 0.5 });
  try {
    await c.authStatus("groq"); // connected
    process.kill(sandbox.daemon.pid, "SIGSTOP");
    let error;
    try {
      error = await caught(c.authStatus("groq"));
    } finally {
      process.kill(sandbox.daemon.pid, "SIGCONT");
    }
    assert.ok(error instanceof nxuskit.DaemonUnavailable, String(error));
    assert.match(error.message, /did not answer auth\.status in time/);
    assert.equal((await c.authStatus("groq")).status, "not_authenticated");
  } finally {
    c.close();
  }
});

test("a daemon restart between calls: the client reconnects", async () => {
  const c = client();
  try {
    await c.authSetCredential("mistral", "sk-survives-restart");
    const first = (await c.daemonStatus()).pid;
    await sandbox.daemon.stop();
    sandbox.daemon = await startDaemon(box);
    const resolution = await c.authResolve("mistral");
    assert.equal(resolution.secret, "sk-survives-restart");
    assert.notEqual((await c.daemonStatus()).pid, first);
    await c.authRemoveCredential("mistral");
  } finally {
    c.close();
  }
});

test("config.toml providers come from the daemon's provider.list", async () => {
  mkdirSync(dirname(box.configFile), { recursive: true });
  writeFileSync(
    box.configFile,
    [
      "[providers.acme]",
      'env = "ACME_API_KEY"',
      'auth_methods = ["api_key"]',
      'default_host = "https://api.acme.example"',
      "[providers.broken]",
      'auth_methods = "api_key"',
      "",
    ].join("\n"),
  );
  const c = client({ ACME_API_KEY: "sk-acme-env" });
  try {
    assert.deepEqual(
      [(await c.authResolve("ACME")).provider, (await c.authResolve("acme")).source],
      ["acme", "env"],
    );
    const stored = client();
    await stored.authSetCredential("acme", "sk-acme-stored");
    assert.equal((await stored.authResolve("acme")).secret, "sk-acme-stored");
    assert.equal(await stored.authRemoveCredential("acme"), true);
    const broken = await caught(stored.authResolve("broken"));
    assert.ok(broken instanceof nxuskit.ConfigError, String(broken));
    assert.match(broken.message, /config\.toml/);
    stored.close();
  } finally {
    c.close();
  }
});

test("a daemon at its connection limit: DaemonBusy with its message", async () => {
  const busy = await withDaemon("--max-connections", "1");
  const holder = new nxuskit.Client({ env: busy.box.env });
  const second = new nxuskit.Client({ env: busy.box.env });
  try {
    await holder.daemonStatus();
    const error = await caught(second.authStatus("groq"));
    assert.ok(error instanceof nxuskit.DaemonBusy, String(error));
    assert.match(error.message, /connection limit/);
  } finally {
    holder.close();
    second.close();
    await busy.close();
    await reap(busy.box);
  }
});
