// The client cache (docs/protocol.md section 13) against a real nxuskitd: repeated
// resolves answered from memory, and never staler than asking: a key rotated by the CLI
// or the Python client, a lock, a restart, the environment and an explicit key, a
// generation file others could write, the switch, a socket path or config.toml changed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { inspect, promisify } from "node:util";
import { after, before, test } from "node:test";

import { beside, nxuskit, startDaemon, waitUntil, withDaemon } from "./helpers.mjs";

const run = promisify(execFile);
let sandbox;
let box;

before(async () => {
  sandbox = await withDaemon();
  box = sandbox.box;
});

after(async () => {
  await sandbox.close();
});

/** A client of `env` whose resolves that reach the daemon are counted in `asked`. */
function counted(env = box.env) {
  const client = new nxuskit.Client({ env });
  const counter = { client, asked: 0, params: [] };
  const call = client.call.bind(client);
  client.call = (method, params) => {
    if (method === "auth.resolve") {
      counter.asked += 1;
      counter.params.push(params);
    }
    return call(method, params);
  };
  return counter;
}

/** Resolve until an answer comes from memory (the first after a write may not). */
async function warm(counter, provider) {
  const reused = await waitUntil(async () => {
    const before = counter.asked;
    await counter.client.authResolve(provider);
    return counter.asked === before;
  }, 5000);
  assert.ok(reused, "no resolve was answered from memory");
}

/** `nxuskit-cli provider set PROVIDER` with `secret` on its stdin, in `env`. */
function cliSet(provider, secret, env = box.env) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      beside("nxuskit-cli"),
      ["provider", "set", provider],
      { env },
      (error) => (error ? reject(error) : resolve()),
    );
    child.stdin.end(`${secret}\n`);
  });
}

/** Descriptors of this process open on a `*.generation` file. */
function generationDescriptors() {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).endsWith(".generation");
    } catch {
      return false;
    }
  }).length;
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("no error");
}

test("repeated resolves reach the daemon once, and the file is opened at the first reuse", async () => {
  const counter = counted();
  const { client } = counter;
  try {
    await client.authSetCredential("openai", "sk-cache-once");
    const first = await client.authResolve("openai");
    assert.equal(generationDescriptors(), 0); // a process that resolves once never opens it
    assert.equal(first.secret, "sk-cache-once");
    for (let i = 0; i < 50; i++) {
      assert.equal((await client.authResolve("openai")).secret, "sk-cache-once");
    }
    assert.ok(counter.asked <= 2, `asked ${counter.asked}`); // a write's first answer may not be reusable
    assert.ok(counter.params.every((params) => params.reuse === true));
    assert.equal(generationDescriptors(), 1);
    // Another client, once the daemon holds the key: its first answer is the one kept.
    const second = counted();
    try {
      const changed = await second.client.authResolve("openai");
      changed.source = "tampered"; // plain JavaScript ignores readonly: the cache keeps a copy
      for (let i = 0; i < 20; i++) {
        const again = await second.client.authResolve("openai");
        assert.equal(again.source, "store");
        again.source = "tampered"; // and each reused answer is a copy too
      }
      assert.equal(second.asked, 1);
    } finally {
      second.client.close();
    }
    const audit = await client.call("audit.query", { provider: "openai" });
    const resolves = audit.entries.filter((entry) => entry.method === "auth.resolve");
    assert.equal(resolves.length, counter.asked + 1); // only those that asked
  } finally {
    client.close();
  }
  assert.equal(generationDescriptors(), 0);
});

test("a key rotated by the CLI or Python, or removed, is seen by the very next resolve", async () => {
  const counter = counted();
  const { client } = counter;
  try {
    await client.authSetCredential("groq", "sk-groq-1");
    await warm(counter, "groq");
    await cliSet("groq", "sk-groq-2");
    assert.equal((await client.authResolve("groq")).secret, "sk-groq-2");
    await warm(counter, "groq");
    await run(
      beside("python"),
      ["-c", 'import nxuskit; nxuskit.auth_set_credential("groq", "sk-groq-3")'],
      { env: box.env },
    );
    assert.equal((await client.authResolve("groq")).secret, "sk-groq-3");
    await warm(counter, "groq");
    await run(beside("nxuskit-cli"), ["provider", "remove", "groq"], { env: box.env });
    assert.ok((await caught(client.authResolve("groq"))) instanceof nxuskit.NotAuthenticated);
  } finally {
    client.close();
  }
});

test("after daemon.lock the next resolve asks the daemon again", async () => {
  const counter = counted();
  const { client } = counter;
  try {
    await client.authSetCredential("mistral", "sk-mistral-lock");
    await warm(counter, "mistral");
    await run(beside("nxuskit-cli"), ["daemon", "lock"], { env: box.env });
    const before = counter.asked;
    assert.equal((await client.authResolve("mistral")).secret, "sk-mistral-lock");
    assert.equal(counter.asked, before + 1);
  } finally {
    client.close();
  }
});

test("the environment wins at once over a kept answer; an explicit key is never kept", async () => {
  const env = { ...box.env };
  const counter = counted(env);
  const { client } = counter;
  try {
    await client.authSetCredential("deepseek", "sk-deepseek-stored");
    await warm(counter, "deepseek");
    env.DEEPSEEK_API_KEY = "sk-deepseek-env";
    let answer = await client.authResolve("deepseek");
    assert.deepEqual([answer.secret, answer.source], ["sk-deepseek-env", "env"]);
    env.DEEPSEEK_API_KEY = "sk-deepseek-env-2";
    assert.equal((await client.authResolve("deepseek")).secret, "sk-deepseek-env-2");
    delete env.DEEPSEEK_API_KEY;
    answer = await client.authResolve("deepseek", "sk-explicit");
    assert.deepEqual([answer.secret, answer.source], ["sk-explicit", "explicit"]);
    const before = counter.asked;
    answer = await client.authResolve("deepseek");
    assert.deepEqual([answer.secret, answer.source], ["sk-deepseek-stored", "store"]);
    assert.equal(counter.asked, before); // still the kept stored answer
  } finally {
    client.close();
  }
});

test("NXUSKIT_CLIENT_CACHE=0 (or off, any case and spacing): every resolve asks", async () => {
  for (const value of ["0", " Off "]) {
    const counter = counted({ ...box.env, NXUSKIT_CLIENT_CACHE: value });
    try {
      await counter.client.authSetCredential("xai", "sk-xai-off");
      for (let i = 0; i < 4; i++) {
        assert.equal((await counter.client.authResolve("xai")).secret, "sk-xai-off");
      }
      assert.equal(counter.asked, 4);
      assert.ok(counter.params.every((params) => params.reuse === undefined));
    } finally {
      counter.client.close();
    }
  }
});

test("a changed socket path or config.toml empties the cache", async () => {
  const other = await withDaemon();
  const env = { ...box.env, XDG_CONFIG_HOME: join(box.root, "client-config") };
  const counter = counted(env);
  const { client } = counter;
  try {
    await client.authSetCredential("together", "sk-together-a");
    const writer = new nxuskit.Client({ env: other.box.env });
    await writer.authSetCredential("together", "sk-b");
    writer.close();
    await warm(counter, "together");
    // A config.toml the daemon does not watch: only the client's own look sees it.
    mkdirSync(join(env.XDG_CONFIG_HOME, "nxuskit"), { recursive: true, mode: 0o700 });
    writeFileSync(join(env.XDG_CONFIG_HOME, "nxuskit", "config.toml"), "# nothing\n");
    const before = counter.asked;
    assert.ok(
      await waitUntil(async () => {
        await client.authResolve("together");
        return counter.asked > before;
      }, 5000),
    );
    await warm(counter, "together");
    env.NXUSKIT_SOCKET = other.box.socketPath; // a daemon whose generation never moved
    assert.ok(
      await waitUntil(async () => (await client.authResolve("together")).secret === "sk-b", 5000),
    );
  } finally {
    client.close();
    await other.close();
  }
});

test("Resolution, cache and Client output never show a kept secret", async () => {
  const counter = counted();
  const { client } = counter;
  try {
    await client.authSetCredential("perplexity", "sk-perplexity-hidden");
    await warm(counter, "perplexity");
    const shown = [inspect(client, { depth: Infinity, showHidden: true }), String(client.reuse)];
    shown.push(JSON.stringify(client.reuse), inspect(client.reuse));
    assert.equal(client.reuse.size, 1);
    for (const text of shown) {
      assert.ok(!text.includes("sk-perplexity-hidden"), text);
    }
  } finally {
    client.close();
  }
});

// A file another user could write decides which answers look current: never trusted.
for (const spoil of ["mode", "owner", "symlink"]) {
  test(`a generation file spoiled by ${spoil}: every resolve asks the daemon`, async () => {
    const own = await withDaemon();
    const counter = counted(own.box.env);
    const generation = `${own.box.socketPath}.generation`;
    assert.equal(statSync(generation).mode & 0o777, 0o600);
    if (spoil === "mode") {
      chmodSync(generation, 0o666);
    } else if (spoil === "owner") {
      chownSync(generation, 65534, 65534);
    } else {
      // A link to the daemon's very file, moved out of the private directory: its
      // content is right, and still it is refused (O_NOFOLLOW), as any link is.
      const moved = join(own.box.root, "moved");
      renameSync(generation, moved);
      symlinkSync(moved, generation);
    }
    try {
      await counter.client.authSetCredential("openai", "sk-spoiled");
      for (let i = 0; i < 4; i++) {
        assert.equal((await counter.client.authResolve("openai")).secret, "sk-spoiled");
      }
      assert.equal(counter.asked, 4);
    } finally {
      counter.client.close();
      await own.close();
    }
  });
}

test("a restarted daemon: no kept answer outlives it", async () => {
  const own = await withDaemon();
  const counter = counted(own.box.env);
  const { client } = counter;
  let daemon = own.daemon;
  try {
    await client.authSetCredential("openai", "sk-before-restart");
    await warm(counter, "openai");
    await daemon.stop();
    const error = await caught(client.authResolve("openai")); // moved at the stop
    assert.ok(error instanceof nxuskit.DaemonUnavailable, String(error));
    daemon = await startDaemon(own.box);
    const before = counter.asked;
    assert.equal((await client.authResolve("openai")).secret, "sk-before-restart");
    assert.equal(counter.asked, before + 1);
    await warm(counter, "openai");
    await cliSet("openai", "sk-after-restart", own.box.env);
    assert.equal((await client.authResolve("openai")).secret, "sk-after-restart");
  } finally {
    client.close();
    await daemon.stop();
    await own.close();
  }
});

test("a kept answer lasts no longer than the daemon's seconds and idle limits", async () => {
  const own = await withDaemon("--cache-idle", "0.5", "--cache-max", "2");
  const counter = counted(own.box.env);
  const { client } = counter;
  try {
    await client.authSetCredential("openai", "sk-limits");
    await warm(counter, "openai");
    // Unused past `idle`: asked again. Polling would be a use, so this one waits.
    await new Promise((resolve) => setTimeout(resolve, 700));
    let before = counter.asked;
    await client.authResolve("openai");
    assert.equal(counter.asked, before + 1);
    await warm(counter, "openai");
    // Used all the time, but only for `seconds` from the request that was granted it.
    before = counter.asked;
    const asked = await waitUntil(async () => {
      await client.authResolve("openai");
      return counter.asked > before;
    }, 5000);
    assert.ok(asked, "a kept answer outlived its seconds");
  } finally {
    client.close();
    await own.close();
  }
});

test("at most 256 names are kept (each spelling is one), then the cache starts over", async () => {
  const counter = counted();
  const { client } = counter;
  try {
    await client.authSetCredential("openai", "sk-many-names");
    await warm(counter, "openai");
    for (let i = 1; i <= 300; i++) {
      await client.authResolve(`openai${" ".repeat(i)}`); // the same provider, 300 spellings
      assert.ok(client.reuse.size <= 256, `${client.reuse.size} names kept`);
    }
    assert.equal((await client.authResolve("openai ")).secret, "sk-many-names");
  } finally {
    client.close();
  }
});
