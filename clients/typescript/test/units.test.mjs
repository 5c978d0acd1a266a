// The parts that need no daemon: the error tree, the key rule, and that no secret ever
// shows in what a Resolution or an error prints.
import assert from "node:assert/strict";
import { format, inspect } from "node:util";
import { test } from "node:test";

import { nxuskit } from "./helpers.mjs";

const SECRET = "sk-live-SECRET-0123456789";
const NO_CONFIG = { XDG_CONFIG_HOME: "/nonexistent-nxuskit-units" };

function everyRendering(value) {
  return [
    inspect(value),
    inspect(value, { showHidden: true, getters: true, depth: Infinity }),
    format("%o %O %s %j", value, value, value, value),
    JSON.stringify(value),
    JSON.stringify({ nested: [value] }),
    String(value),
    `${value}`,
    JSON.stringify(Object.entries(value)),
    JSON.stringify({ ...value }),
    inspect(structuredClone({ ...value })),
  ];
}

test("a Resolution shows its secret only when asked for it", () => {
  const resolution = new nxuskit.Resolution("openai", SECRET, "store", "api_key");
  assert.equal(resolution.secret, SECRET);
  for (const text of everyRendering(resolution)) {
    assert.ok(!text.includes(SECRET), text);
  }
  assert.match(inspect(resolution), /secret='\*\*\*'/);
  assert.equal(JSON.parse(JSON.stringify(resolution)).secret, "***");
  assert.equal(
    JSON.parse(JSON.stringify(new nxuskit.Resolution("ollama", null, null, "none"))).secret,
    null,
  );
});

test("a Resolution from the wire is checked field by field", () => {
  const good = {
    provider: "openai",
    secret: SECRET,
    source: "store",
    auth_method: "api_key",
    expires_at: null,
  };
  assert.equal(nxuskit.Resolution.fromWire(good).secret, SECRET);
  for (const bad of [null, [], { ...good, secret: 5 }, { ...good, provider: undefined }]) {
    assert.throws(() => nxuskit.Resolution.fromWire(bad), nxuskit.ProtocolError);
  }
  const older = { ...good };
  delete older.expires_at; // optional: an older daemon may leave it out
  assert.equal(nxuskit.Resolution.fromWire(older).expiresAt, null);
});

test("errors keep the tree, the kind and the code", () => {
  const cases = [
    ["daemon_unavailable", nxuskit.DaemonUnavailable, 1000],
    ["daemon_busy", nxuskit.DaemonBusy, 1008],
    ["version_mismatch", nxuskit.VersionMismatch, 1001],
    ["unknown_provider", nxuskit.UnknownProvider, 1002],
    ["not_authenticated", nxuskit.NotAuthenticated, 1003],
    ["store_unavailable", nxuskit.StoreUnavailable, 1004],
    ["permission_denied", nxuskit.PermissionDenied, 1005],
    ["config_invalid", nxuskit.ConfigError, 1006],
    ["login_failed", nxuskit.LoginFailed, 1010],
    ["invalid_params", nxuskit.InvalidArgument, -32602],
    ["protocol_error", nxuskit.ProtocolError, -32603],
  ];
  for (const [kind, cls, code] of cases) {
    const error = nxuskit.errorFromWire({ code, message: `a ${kind}`, data: { kind } });
    assert.equal(error.constructor, cls);
    assert.ok(error instanceof nxuskit.NxuskitError && error instanceof Error);
    assert.equal(error.kind, kind);
    assert.equal(error.code, code);
    assert.equal(error.message, `a ${kind}`);
    assert.equal(error.name, cls.name);
  }
  assert.ok(new nxuskit.DaemonBusy("x") instanceof nxuskit.DaemonUnavailable);
});

test("an unknown kind becomes the base error, keeping kind and code; junk never throws", () => {
  const future = nxuskit.errorFromWire({
    code: 1099,
    message: "new",
    data: { kind: "brand_new_kind" },
  });
  assert.equal(future.constructor, nxuskit.NxuskitError);
  assert.equal(future.kind, "brand_new_kind");
  assert.equal(future.code, 1099);
  const params = nxuskit.errorFromWire({
    code: -32602,
    message: "bad",
    data: { kind: "something_else" },
  });
  assert.equal(params.constructor, nxuskit.InvalidArgument);
  const internal = nxuskit.errorFromWire({
    code: -32603,
    message: "Internal error",
    data: { kind: "internal_error" },
  });
  assert.equal(internal.constructor, nxuskit.NxuskitError);
  assert.equal(internal.kind, "internal_error");
  for (const junk of [null, "text", 5, [], {}, { data: 5 }, { message: 7, data: { kind: 9 } }]) {
    assert.ok(nxuskit.errorFromWire(junk) instanceof nxuskit.NxuskitError);
  }
});

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("no error");
}

test("errors about a key never show the key", async () => {
  const connect = async () => assert.fail("no request may be sent");
  const client = new nxuskit.Client({ env: NO_CONFIG, connect });
  const errors = [
    await caught(client.authSetCredential("openai", `\u001f${SECRET}`)),
    await caught(client.authSetCredential("openai", `${SECRET}\ud800`)),
    await caught(client.authSetCredential("openai", `${SECRET}\n${SECRET}`)),
    await caught(client.authResolve(SECRET)), // a key pasted where the name goes
    await caught(client.authStatus(SECRET)),
  ];
  for (const error of errors) {
    assert.ok(error instanceof nxuskit.NxuskitError, String(error));
    for (const text of [...everyRendering(error), error.stack]) {
      assert.ok(!text.includes(SECRET), text);
    }
  }
  assert.match(errors[0].message, /U\+001F/);
  assert.equal(errors[1].kind, "invalid_params");
  assert.match(errors[3].message, /unknown provider \(that name\)/);
});

test("the key rule: trim space, tab, CR, LF; refuse the rest without a request", async () => {
  const sent = [];
  const connect = async () => ({
    closed: false,
    close() {},
    async call(method, params) {
      sent.push(params.secret);
      return { provider: params.provider, stored: true, store: "file", replaced: false };
    },
  });
  const client = new nxuskit.Client({ env: NO_CONFIG, connect });
  await client.authSetCredential("openai", " \t sk-abc\r\n");
  await client.authSetCredential("openai", "sk-ключ-✓");
  assert.deepEqual(sent, ["sk-abc", "sk-ключ-✓"]);
  const refused = [
    "",
    " \n ",
    "\u001fsk-abc",
    "sk\u007fabc",
    "\u0085sk",
    "sk\ud800",
    "\udc00",
    "x".repeat(16385),
    42,
  ];
  for (const secret of refused) {
    const error = await caught(client.authSetCredential("openai", secret));
    assert.equal(error.kind, "invalid_params", String(secret).slice(0, 20));
  }
  assert.equal(sent.length, 2);
});

test("NXUSKIT_TIMEOUT must be a positive number of seconds", () => {
  assert.equal(nxuskit.timeoutFromEnv({}), 30);
  assert.equal(nxuskit.timeoutFromEnv({ NXUSKIT_TIMEOUT: " 2.5 " }), 2.5);
  for (const bad of ["0", "-1", "soon", "1e9"]) {
    assert.throws(() => nxuskit.timeoutFromEnv({ NXUSKIT_TIMEOUT: bad }), nxuskit.InvalidArgument);
  }
});
