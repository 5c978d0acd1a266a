// The package as users get it: the embedded registry equals the shared one, the
// committed dist/ is exactly what tsc makes of src/, and `npm install <folder>` (or the
// packed tarball) gives a package that ESM and CommonJS code import and that TypeScript
// code type-checks against, with no build step and no @types/node.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { after, test } from "node:test";

import { CI, CONFORMANCE, PACKAGE_DIR, tscPath } from "./helpers.mjs";

const run = promisify(execFile);
const temporary = [];
after(() => temporary.forEach((path) => rmSync(path, { recursive: true, force: true })));

function tempDir(prefix) {
  const path = mkdtempSync(`/tmp/${prefix}`);
  temporary.push(path);
  return path;
}

const TSC = tscPath();
// Under CI the compiler must be there (`make client-typescript` installs it).
const NO_TSC =
  TSC === null && !CI ? "typescript is not installed: run `make client-typescript`" : false;

function files(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      entry.isDirectory() ? walk(path) : found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

test("the embedded registry is clients/conformance/providers.json", async () => {
  const original = JSON.parse(readFileSync(join(CONFORMANCE, "providers.json"), "utf8"));
  const { BUILTIN, FORMAT } = await import(join(PACKAGE_DIR, "dist", "providers.js"));
  assert.equal(FORMAT, original.format);
  assert.deepEqual(
    BUILTIN,
    original.providers,
    "run: node scripts/sync-providers.mjs && npm run build",
  );
});

test("dist/ is exactly what tsc makes of src/", { skip: NO_TSC }, async () => {
  assert.ok(TSC, "typescript is not installed: run `make client-typescript`");
  const out = tempDir("nxk-ts-dist-");
  await run(process.execPath, [TSC, "-p", join(PACKAGE_DIR, "tsconfig.json"), "--outDir", out]);
  const committed = join(PACKAGE_DIR, "dist");
  assert.deepEqual(files(committed), files(out), "run: npm run build");
  for (const name of files(out)) {
    assert.equal(
      readFileSync(join(committed, name), "utf8"),
      readFileSync(join(out, name), "utf8"),
      `dist/${name} is stale: run npm run build`,
    );
  }
});

test("the sources are formatted (npm run format)", { skip: NO_TSC }, async () => {
  const prettier = join(PACKAGE_DIR, "node_modules", "prettier", "bin", "prettier.cjs");
  await run(process.execPath, [prettier, "--check", "src", "test", "bin", "scripts"], {
    cwd: PACKAGE_DIR,
  });
});

const USE_ESM = `
import { authResolve, authStatus, authSetCredential, authRemoveCredential, Client, NxuskitError } from "nxuskit";
const resolution = await authResolve("gpt", "sk-explicit-esm");
const status = await authStatus("ollama");
console.log(JSON.stringify([resolution.provider, resolution.secret, resolution.source, status.status,
  typeof authSetCredential, typeof authRemoveCredential, typeof Client, typeof NxuskitError]));
`;

const USE_CJS = `
const { authResolve, Client } = require("nxuskit");
authResolve("gpt", "sk-explicit-cjs").then((resolution) =>
  console.log(JSON.stringify([resolution.provider, resolution.secret, resolution.source, typeof Client])));
`;

const USE_TS = `
import { authResolve, authStatus, authSetCredential, authRemoveCredential, Client, NxuskitError,
  type Resolution, type AuthStatus } from "nxuskit";

export async function main(): Promise<void> {
  const status: AuthStatus = await authStatus("openai");
  const fields: [string, string, string | null, readonly string[]] =
    [status.provider, status.status, status.source, status.authMethods];
  await authSetCredential("openai", "sk-...");
  const resolution: Resolution = await authResolve("openai");
  const explicit = await authResolve("openai", "sk-explicit");
  const secret: string | null = resolution.secret;
  const source: string | null = explicit.source;
  const removed: boolean = await authRemoveCredential("openai");
  const client = new Client({ timeout: 5, autostart: false });
  try {
    await client.authResolve("openai");
  } catch (error) {
    if (error instanceof NxuskitError) {
      const kind: string = error.kind;
      void kind;
    }
  }
  void [fields, secret, source, removed];
}
`;

async function consumer(spec) {
  const project = tempDir("nxk-ts-consumer-");
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, version: "1.0.0" }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--offline", "--loglevel=error", spec], {
    cwd: project,
  });
  return project;
}

async function checkImports(project) {
  const esm = await run(process.execPath, ["--input-type=module", "-e", USE_ESM], {
    cwd: project,
    env: { PATH: process.env.PATH, XDG_CONFIG_HOME: "/nonexistent" },
  });
  assert.deepEqual(JSON.parse(esm.stdout), [
    "openai",
    "sk-explicit-esm",
    "explicit",
    "not_required",
    "function",
    "function",
    "function",
    "function",
  ]);
  const cjs = await run(process.execPath, ["-e", USE_CJS], {
    cwd: project,
    env: { PATH: process.env.PATH, XDG_CONFIG_HOME: "/nonexistent" },
  });
  assert.deepEqual(JSON.parse(cjs.stdout), ["openai", "sk-explicit-cjs", "explicit", "function"]);
}

test("npm install <folder>: ESM and CommonJS import it, TypeScript checks against it", async () => {
  const project = await consumer(PACKAGE_DIR);
  await checkImports(project);
  if (TSC === null) {
    assert.ok(!CI, "typescript is not installed: run `make client-typescript`");
    return;
  }
  writeFileSync(join(project, "main.ts"), USE_TS);
  const config = {
    compilerOptions: {
      strict: true,
      module: "node16",
      moduleResolution: "node16",
      target: "ES2022",
      noEmit: true,
      types: [],
    },
    files: ["main.ts"],
  };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(config));
  await run(process.execPath, [TSC, "-p", project]);
});

test("the packed tarball holds dist/ and installs the same way", async () => {
  const packed = tempDir("nxk-ts-pack-");
  const { stdout } = await run("npm", ["pack", "--pack-destination", packed, "--loglevel=error"], {
    cwd: PACKAGE_DIR,
  });
  const tarball = join(packed, stdout.trim().split("\n").pop());
  await checkImports(await consumer(tarball));
});
