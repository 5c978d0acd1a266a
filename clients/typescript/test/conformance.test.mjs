// Every case of clients/conformance/vectors.json (names, resolve, status), run against an
// in-memory daemon that answers auth.resolve and auth.status from each case's "store".
// A case that says "asks_daemon": false must not even open a connection.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { CONFORMANCE, nxuskit } from "./helpers.mjs";

const vectors = JSON.parse(readFileSync(join(CONFORMANCE, "vectors.json"), "utf8"));
const registry = JSON.parse(readFileSync(join(CONFORMANCE, "providers.json"), "utf8")).providers;
const NO_CONFIG = { XDG_CONFIG_HOME: "/nonexistent-nxuskit-conformance" };

function wireError(code, kind, message) {
  return nxuskit.errorFromWire({ code, message, data: { kind } });
}

/** A Client whose daemon is `store` in memory; `asked` records every method sent. */
function standIn(store, env) {
  const asked = [];
  const answer = (method, params) => {
    if (method === "auth.resolve") {
      const record = store[params.provider];
      if (record === undefined) {
        throw wireError(1003, "not_authenticated", `no credential for ${params.provider}`);
      }
      const source = record.auth_method === "oauth" ? "oauth" : "store";
      return { provider: params.provider, secret: record.secret, source, ...record };
    }
    if (method === "auth.status") {
      const entries = registry.filter(
        (entry) => params.provider === undefined || entry.name === params.provider,
      );
      const providers = entries.map((entry) => {
        const record = store[entry.name];
        const status =
          entry.auth_methods.length === 0
            ? "not_required"
            : record
              ? "authenticated"
              : "not_authenticated";
        const source = record ? (record.auth_method === "oauth" ? "oauth" : "store") : null;
        return {
          provider: entry.name,
          auth_methods: entry.auth_methods,
          status,
          source,
          auth_method: record?.auth_method ?? null,
          expires_at: record?.expires_at ?? null,
        };
      });
      return {
        providers,
        store: { kind: "file", description: "memory", reason: "test" },
        orphans: [],
      };
    }
    throw wireError(-32601, "method_not_found", `Method not found: ${method}`);
  };
  const connect = async () => {
    asked.push("(connect)");
    return {
      closed: false,
      close() {},
      async call(method, params) {
        asked.push(method);
        return answer(method, params);
      },
    };
  };
  return { client: new nxuskit.Client({ env: { ...NO_CONFIG, ...env }, connect }), asked };
}

async function outcome(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    assert.ok(error instanceof nxuskit.NxuskitError, `not an NxuskitError: ${error}`);
    return { error: error.kind };
  }
}

test("names: every spelling matches as vectors.json says, unknown ones without a request", async (t) => {
  for (const vector of vectors.names) {
    await t.test(JSON.stringify(vector.given), async () => {
      const { client, asked } = standIn({}, {});
      const result = await outcome(client.authResolve(vector.given, "sk-explicit-for-names"));
      if (vector.error !== undefined) {
        assert.deepEqual(result, { error: vector.error });
      } else {
        assert.equal(result.value.provider, vector.provider);
      }
      assert.deepEqual(asked, []); // a name is matched here, never by asking the daemon
    });
  }
});

test("resolve: explicit > env > store, as vectors.json says", async (t) => {
  for (const vector of vectors.resolve) {
    await t.test(vector.case, async () => {
      const { client, asked } = standIn(vector.store, vector.env);
      const result = await outcome(client.authResolve(vector.provider, vector.explicit));
      if (vector.expect.error !== undefined) {
        assert.deepEqual(result, { error: vector.expect.error });
      } else {
        const got = result.value;
        assert.ok(got instanceof nxuskit.Resolution, JSON.stringify(result));
        assert.equal(got.provider, vector.expect.provider);
        assert.equal(got.secret, vector.expect.secret);
        assert.equal(got.source, vector.expect.source);
        assert.equal(got.authMethod, vector.expect.auth_method);
        if ("expires_at" in vector.expect) {
          assert.equal(got.expiresAt, vector.expect.expires_at);
        }
      }
      assert.equal(asked.includes("auth.resolve"), vector.asks_daemon, `asked: ${asked}`);
      if (!vector.asks_daemon) {
        assert.deepEqual(asked, []);
      }
    });
  }
});

test("status: the same precedence overlaid on auth.status", async (t) => {
  for (const vector of vectors.status) {
    await t.test(vector.case, async () => {
      const { client, asked } = standIn(vector.store, vector.env);
      const result = await outcome(client.authStatus(vector.provider, vector.explicit));
      if (vector.expect.error !== undefined) {
        assert.deepEqual(result, { error: vector.expect.error });
      } else {
        const got = result.value;
        assert.equal(got.provider, vector.expect.provider);
        assert.equal(got.status, vector.expect.status);
        assert.equal(got.source, vector.expect.source);
        assert.deepEqual([...got.authMethods], vector.expect.auth_methods);
      }
      assert.equal(asked.includes("auth.status"), vector.asks_daemon, `asked: ${asked}`);
      if (!vector.asks_daemon) {
        assert.deepEqual(asked, []);
      }
    });
  }
});
