// A daemon that refuses a connection writes one line and closes at once. When that
// happens before the client's first write, the write fails with EPIPE, and Node throws
// the socket away with the refusal unread. The client must still report the refusal.
// Also: the hello handshake against daemons that speak an older protocol, or none.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { after, test } from "node:test";

import { makeSandbox, nxuskit, waitUntil } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { openConnection } = require("../dist/connection.js");

const boxes = [];
after(() => boxes.forEach((box) => box.remove()));

function privateSocket() {
  const box = makeSandbox();
  boxes.push(box);
  mkdirSync(dirname(box.socketPath), { mode: 0o700 });
  return box;
}

// A refusing server in a process of its own: on each connection it writes the busy line,
// closes, and then says so on stdout. It holds the first connection until told "go" on
// stdin, so that its refusal arrives after the client's first read.
const REFUSER = `
const net = require("node:net");
let count = 0;
const line = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: 1008,
  message: "nxuskitd is at its connection limit; retry, or raise --max-connections",
  data: { kind: "daemon_busy" } } }) + "\\n";
const refuse = (socket) =>
  socket.end(line, () => { socket.destroy(); process.stdout.write("closed " + ++count + "\\n"); });
let first;
process.stdin.once("data", () => refuse(first));
net.createServer((socket) => {
  if (first === undefined) { first = socket; process.stdout.write("accepted\\n"); } else refuse(socket);
}).listen(process.argv[1], () => process.stdout.write("listening\\n"));
`;

test("a refusal that comes between the first read and the first write is not lost to EPIPE", async () => {
  const box = privateSocket();
  const server = spawn(process.execPath, ["-e", REFUSER, box.socketPath], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk));
  try {
    assert.ok(await waitUntil(() => output.includes("listening")));
    // The hook runs after the socket was read once, before the first write. It stops
    // reading, lets the server refuse and close, and waits for that: the refusal is
    // then unread in the socket, and the write meets EPIPE.
    const hooks = {
      beforeFirstWrite: async (socket) => {
        socket.pause();
        assert.ok(await waitUntil(() => output.includes("accepted")));
        server.stdin.write("go\n");
        assert.ok(await waitUntil(() => output.includes("closed 1")));
      },
    };
    let error;
    try {
      await openConnection(box.socketPath, 5000, hooks);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof nxuskit.DaemonBusy, String(error));
    assert.match(error.message, /connection limit/);
  } finally {
    server.kill();
  }
});

/** An in-process fake daemon that answers every line with `answer(request)`. */
async function fakeDaemon(answer) {
  const box = privateSocket();
  const received = [];
  const server = createServer((socket) => {
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        received.push(line);
        const request = JSON.parse(line);
        socket.write(JSON.stringify({ jsonrpc: "2.0", id: request.id, ...answer(request) }) + "\n");
      }
    });
  });
  await new Promise((resolve) => server.listen(box.socketPath, resolve));
  return { box, received, close: () => server.close() };
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("no error");
}

test("hello first, exactly as the contract writes it", async () => {
  const fake = await fakeDaemon((request) =>
    request.method === "daemon.hello"
      ? { result: { protocol: 1, version: "9.9", pid: 1, store: {} } }
      : {
          result: {
            provider: "groq",
            secret: null,
            source: null,
            auth_method: "none",
            expires_at: null,
          },
        },
  );
  const c = new nxuskit.Client({ env: fake.box.env });
  try {
    await c.authResolve("groq");
    assert.deepEqual(fake.received, [
      '{"jsonrpc":"2.0","id":1,"method":"daemon.hello","params":{"protocol":1}}',
      // "reuse": true asks for leave to cache the answer (docs/protocol.md section 13)
      '{"jsonrpc":"2.0","id":2,"method":"auth.resolve","params":{"provider":"groq","reuse":true}}',
    ]);
  } finally {
    c.close();
    fake.close();
  }
});

test("an older daemon, or one without hello, is a VersionMismatch", async () => {
  const answers = [
    () => ({ result: { protocol: 0, version: "0.0.1", pid: 1 } }),
    () => ({ result: { version: "0.0.1" } }),
    () => ({
      error: { code: -32601, message: "Method not found", data: { kind: "method_not_found" } },
    }),
  ];
  for (const answer of answers) {
    const fake = await fakeDaemon(answer);
    const c = new nxuskit.Client({ env: fake.box.env });
    try {
      const error = await caught(c.authResolve("groq"));
      assert.ok(error instanceof nxuskit.VersionMismatch, String(error));
      assert.match(error.message, /restart/);
      assert.equal(fake.received.length, 1); // nothing after the failed hello
    } finally {
      c.close();
      fake.close();
    }
  }
});

test("an error kind this client does not know is the base error, not a crash", async () => {
  const fake = await fakeDaemon((request) =>
    request.method === "daemon.hello"
      ? { result: { protocol: 2 } } // a newer daemon is accepted
      : { error: { code: 1099, message: "something new", data: { kind: "brand_new_kind" } } },
  );
  const c = new nxuskit.Client({ env: fake.box.env });
  try {
    const error = await caught(c.authResolve("groq"));
    assert.equal(error.constructor, nxuskit.NxuskitError);
    assert.equal(error.kind, "brand_new_kind");
    assert.equal(error.message, "something new");
  } finally {
    c.close();
    fake.close();
  }
});
