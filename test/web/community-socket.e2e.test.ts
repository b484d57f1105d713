/**
 * The web app's community socket client (web/src/lib/community.ts) against the real platform, with
 * Node's own WebSocket (the browser's API): it signs in with the `auth` message, matches replies to
 * their `ref`, turns errors into CommunityError with the server's code, reconnects by itself when
 * the server drops it, and stops (offline, no retry loop) when the token is refused and no session
 * can be refreshed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CommunityError, CommunitySocket, type SocketState } from "../../web/src/lib/community.ts";
import { sessionFromToken, setSession } from "../../web/src/lib/session.ts";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../support/platform.ts";

let running: TestPlatform;

before(async () => {
  running = await startTestPlatform();
});
after(async () => {
  setSession(undefined); // clears the session's refresh timer, so the process can end
  await running?.stop();
});

const socketUrl = () => `${running.url.replace("http", "ws")}/v1/community/ws`;

async function citizenToken(username: string): Promise<string> {
  const client = apiClient(running.url);
  await client.signUp(username);
  const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
  const id = (await admin.get(`/v1/admin/users?search=${username}`)).body.items[0].id as string;
  assert.equal((await admin.call("PUT", `/v1/admin/users/${id}/roles/citizen`)).status, 200);
  return client.signIn(username, "correct horse battery staple");
}

/** Resolves when the socket reaches `wanted`; records every state it passes through. */
function reach(socket: CommunitySocket, wanted: SocketState, seen: SocketState[] = []): Promise<void> {
  if (socket.state === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never ${wanted}; saw ${seen.join(", ")}`)), 10_000);
    const off = socket.onState((state) => {
      seen.push(state);
      if (state !== wanted) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The CommunityError a send is refused with (a reply instead fails the test). */
async function refusal(sent: Promise<unknown>): Promise<CommunityError> {
  const error = await sent.then(
    (result) => assert.fail(`expected a refusal, got ${JSON.stringify(result)}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof CommunityError, String(error));
  return error;
}

const here = { lat: 52.37, lon: 4.89, accuracyM: 5 };

describe("the community socket client", { timeout: 120_000 }, () => {
  it("signs in with the auth message, answers by ref, and reports refusals with their code", async () => {
    setSession(sessionFromToken(await citizenToken(`sock-${Date.now()}`), 900, "citizen"));
    const socket = new CommunitySocket(socketUrl());
    try {
      await reach(socket, "live");
      const answer = await socket.send<{ as: string; officers: unknown[] }>({ type: "location", ...here });
      assert.deepEqual(answer, { as: "citizen", officers: [] });
      // Several at once: each reply finds its own sender.
      const [a, b] = await Promise.all([
        socket.send<{ as: string }>({ type: "location", ...here }),
        socket.send({ type: "stop" }).catch((error: unknown) => error),
      ]);
      assert.equal(a.as, "citizen");
      assert.ok(b instanceof CommunityError);
      assert.equal(b.code, "forbidden", "a citizen cannot stop an officer's window");
      const invalid = await refusal(socket.send({ type: "location", ...here, lat: 91 }));
      assert.equal(invalid.code, "invalid_location");
      assert.equal(invalid.field, "lat");
    } finally {
      socket.close();
    }
  });

  it("reconnects by itself when the server drops the socket, and works again", async () => {
    setSession(sessionFromToken(await citizenToken(`drop-${Date.now()}`), 900, "citizen"));
    const socket = new CommunitySocket(socketUrl());
    try {
      await reach(socket, "live");
      const seen: SocketState[] = [];
      const back = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`never live again; saw ${seen.join(", ")}`)), 10_000);
        const off = socket.onState((state) => {
          seen.push(state);
          if (state !== "live") return;
          clearTimeout(timer);
          off();
          resolve();
        });
      });
      // Larger than the server's message limit: the server closes the socket (1009).
      const dropped = await refusal(socket.send({ type: "location", ...here, padding: "x".repeat(10_000) }));
      assert.equal(dropped.code, "offline", "the message in flight fails, it is not left hanging");
      await back;
      assert.deepEqual(seen, ["connecting", "live"]);
      const answer = await socket.send<{ as: string }>({ type: "location", ...here });
      assert.equal(answer.as, "citizen");
    } finally {
      socket.close();
    }
  });

  it("stops, offline, when the token is refused and no session can be refreshed", async () => {
    setSession({ token: "not-a-token", username: "nobody", roles: [], expiresAtMs: Date.now() + 60_000 });
    const socket = new CommunitySocket(socketUrl());
    try {
      const seen: SocketState[] = [];
      await reach(socket, "offline", seen);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(socket.state, "offline", "no retry loop against a refused token");
      assert.deepEqual(seen, ["offline"]);
    } finally {
      socket.close();
    }
  });
});
