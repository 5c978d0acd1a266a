#!/usr/bin/env node
// The probe the cross-language test and bench drive (clients-common interface):
//   probe set PROVIDER SECRET   stores it; prints nothing
//   probe resolve PROVIDER      {"secret": ..., "source": ...}
//   probe remove PROVIDER       {"removed": true|false}
//   probe bench PROVIDER N      N warm resolves over one connection after a warm-up:
//                               {"n": N, "p50_us": .., "p99_us": .., "mean_us": ..}
//   probe hot PROVIDER N        N resolves after a warm-up that makes the answer kept by
//                               the client cache: the figures, and "asked", how many of
//                               the N reached the daemon (0 when nothing changed)
// Errors: one line on stderr, "probe: <kind>: <message>", exit 1. It reads the same
// environment and sandbox as any client (NXUSKIT_SOCKET, XDG_RUNTIME_DIR, ...).
"use strict";

const nxuskit = require("../dist/index.js");

// V8 compiles the hot path after a few thousand calls: measure the steady state.
const WARM_UP = 2000;

function usage() {
  throw new nxuskit.InvalidArgument(
    "usage: probe set PROVIDER SECRET | resolve PROVIDER | remove PROVIDER | " +
      "bench PROVIDER N | hot PROVIDER N",
  );
}

function percentile(sorted, fraction) {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** A Client whose resolves that reach the daemon are counted in `counter.asked`. */
function countingClient(counter, options) {
  const client = new nxuskit.Client(options);
  const call = client.call.bind(client);
  client.call = (method, params) => {
    counter.asked += method === "auth.resolve" ? 1 : 0;
    return call(method, params);
  };
  return client;
}

// bench: every resolve a round trip (the cache off); hot: the client cache on, warm.
async function bench(provider, text, hot = false) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    usage();
  }
  const counter = { asked: 0 };
  const env = { ...process.env };
  if (!hot) {
    env.NXUSKIT_CLIENT_CACHE = "0";
  }
  const client = countingClient(counter, { env });
  try {
    for (let i = 0; i < WARM_UP; i++) {
      await client.authResolve(provider);
    }
    counter.asked = 0;
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      await client.authResolve(provider);
      times[i] = Number(process.hrtime.bigint() - start) / 1000;
    }
    const sorted = Array.from(times).sort((a, b) => a - b);
    const mean = sorted.reduce((sum, value) => sum + value, 0) / n;
    const round = (value) => Math.round(value * 10) / 10;
    const figures = {
      n,
      p50_us: round(percentile(sorted, 0.5)),
      p99_us: round(percentile(sorted, 0.99)),
      mean_us: round(mean),
    };
    return hot ? { ...figures, asked: counter.asked } : figures;
  } finally {
    client.close();
  }
}

async function run(argv) {
  const [command, provider, extra, ...rest] = argv;
  if (provider === undefined || rest.length > 0) {
    usage();
  }
  if (command === "set" && extra !== undefined) {
    await nxuskit.authSetCredential(provider, extra);
    return undefined;
  }
  if (command === "resolve" && extra === undefined) {
    const resolution = await nxuskit.authResolve(provider);
    return { secret: resolution.secret, source: resolution.source };
  }
  if (command === "remove" && extra === undefined) {
    return { removed: await nxuskit.authRemoveCredential(provider) };
  }
  if (command === "bench" && extra !== undefined) {
    return bench(provider, extra);
  }
  if (command === "hot" && extra !== undefined) {
    return bench(provider, extra, true);
  }
  return usage();
}

run(process.argv.slice(2)).then(
  (answer) => {
    if (answer !== undefined) {
      process.stdout.write(JSON.stringify(answer) + "\n");
    }
    nxuskit.setDefaultClient(undefined);
  },
  (error) => {
    const kind = error instanceof nxuskit.NxuskitError ? error.kind : "error";
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`probe: ${kind}: ${message}\n`);
    process.exitCode = 1;
    nxuskit.setDefaultClient(undefined);
  },
);
