/**
 * The community socket's message-size limit on a started platform: a message larger than
 * `community.messageBytesMax` closes that client's socket (1009), and nothing else: the process
 * goes on serving (before the fix, ws's 'error' event had no listener and was thrown as an
 * uncaught exception, which ends a Node process: one oversized message from anyone stopped the API).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { apiClient, startTestPlatform, type TestPlatform } from "../../test/support/platform.ts";

let running: TestPlatform;
const uncaught: unknown[] = [];
const record = (error: unknown) => uncaught.push(error);

before(async () => {
  running = await startTestPlatform();
  // Seen here instead of ending the test process, so the test can say what happened.
  process.on("uncaughtException", record);
});
after(async () => {
  process.off("uncaughtException", record);
  await running?.stop();
});

async function openSocket(token: string) {
  const socket = new WebSocket(`${running.url.replace("http", "ws")}/v1/community/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("message", () => resolve());
    socket.once("error", reject);
  });
  await ready;
  return socket;
}

test("an oversized message closes only that socket (1009); the server goes on serving", async () => {
  const client = apiClient(running.url);
  const token = await client.signUp(`big-${Date.now()}`);
  const socket = await openSocket(token);
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.send(
    JSON.stringify({ type: "location", lat: 1, lon: 1, accuracyM: 5, padding: "x".repeat(10_000) }),
  );
  assert.equal(await closed, 1009);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(
    uncaught.map((error) => String(error)),
    [],
    "no uncaught exception in the server",
  );
  // Still serving: HTTP and a new socket.
  assert.equal((await client.call("GET", "/healthz")).status < 500, true);
  const again = await openSocket(token);
  again.close();
});
