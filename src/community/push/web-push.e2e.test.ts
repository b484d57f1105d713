/**
 * Web Push on a started platform: a participant whose app is closed (no socket) is woken through
 * their push subscription. The push service is the loopback stand-in (a browser vendor's service
 * cannot run here), which verifies the VAPID JWT and decrypts the payload as a browser would.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import webpush from "web-push";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import { type LoopbackPushService, startLoopbackPushService } from "./loopback-push-service.ts";

const password = "correct horse battery staple";

describe("Web Push wakes a closed app (loopback stand-in push service)", () => {
  let running: TestPlatform;
  let service: LoopbackPushService;
  let dir: string;
  const vapid = webpush.generateVAPIDKeys();

  before(async () => {
    service = await startLoopbackPushService();
    dir = await mkdtemp(join(tmpdir(), "ledgerflow-push-e2e-"));
    const caFile = join(dir, "push-ca.pem");
    await writeFile(caFile, service.certificatePem);
    running = await startTestPlatform({
      community: {
        virtualAllowed: true,
        pushVapidSubject: "mailto:ops@example.com",
        pushVapidPublicKey: vapid.publicKey,
        pushVapidPrivateKey: vapid.privateKey,
        pushCaFile: caFile,
      },
    });
  });
  after(async () => {
    await running?.stop();
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function user(username: string, role: string) {
    const client = apiClient(running.url);
    await client.signUp(username, password);
    const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
    const id = (await admin.get(`/v1/admin/users?search=${username}`)).body.items[0].id as string;
    assert.equal((await admin.call("PUT", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
    return { id, http: client.as(await client.signIn(username, password)) };
  }

  test("a request reaches the officer's closed app, the accept the citizen's; a gone endpoint is forgotten", async () => {
    const officer = await user("push-officer", "officer");
    const citizen = await user("push-citizen", "citizen");
    const key = await officer.http.get("/v1/community/push/public-key");
    assert.equal(key.status, 200);
    assert.equal(key.body.publicKey, vapid.publicKey);
    const officerDevice = service.subscribe(key.body.publicKey);
    const citizenDevice = service.subscribe(key.body.publicKey);
    for (const [who, device] of [
      [officer, officerDevice],
      [citizen, citizenDevice],
    ] as const) {
      const saved = await who.http.call("PUT", "/v1/community/push/subscriptions", device);
      assert.equal(saved.status, 204, JSON.stringify(saved.body));
    }
    const here = { lat: 52.37, lon: 4.89, accuracyM: 5 };
    assert.equal((await officer.http.call("POST", "/v1/community/availability", here)).status, 200);
    const asked = await citizen.http.call("POST", "/v1/community/requests", {
      officerId: officer.id,
      virtual: true,
    });
    assert.ok(asked.status < 300, JSON.stringify(asked.body));

    const woken = await service.next(officerDevice.endpoint, 10_000);
    const shown = JSON.parse(woken.payload);
    assert.equal(shown.title, "Someone wants to connect");
    assert.match(shown.body, /push-citizen/);
    assert.equal(shown.url, "/community");
    assert.equal(woken.vapidSubject, "mailto:ops@example.com");

    const accepted = await officer.http.call("POST", `/v1/community/requests/${asked.body.id}/accept`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(JSON.parse((await service.next(citizenDevice.endpoint, 10_000)).payload).title, "Connected");

    // The browser unsubscribed: the push service answers 410 and the server forgets the endpoint.
    service.unsubscribe(officerDevice.endpoint);
    const again = await user("push-citizen-2", "citizen");
    await again.http.call("POST", "/v1/community/requests", { officerId: officer.id, virtual: true });
    const stored = async () =>
      (
        await running.platform.pool.query("SELECT 1 FROM community_push_subscriptions WHERE endpoint = $1", [
          officerDevice.endpoint,
        ])
      ).rowCount;
    for (let attempt = 0; attempt < 50 && (await stored()) !== 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await stored(), 0, "a gone subscription is forgotten");
  });

  test("a participant lists their own subscriptions' endpoints, never another's; a removed one is gone", async () => {
    const first = await user("push-lister-1", "citizen");
    const second = await user("push-lister-2", "officer");
    const device = service.subscribe(vapid.publicKey);
    const other = service.subscribe(vapid.publicKey);
    assert.deepEqual((await first.http.get("/v1/community/push/subscriptions")).body, { items: [] });
    assert.equal((await first.http.call("PUT", "/v1/community/push/subscriptions", device)).status, 204);
    assert.equal((await second.http.call("PUT", "/v1/community/push/subscriptions", other)).status, 204);
    assert.deepEqual((await first.http.get("/v1/community/push/subscriptions")).body, {
      items: [{ endpoint: device.endpoint }],
    });
    const removed = await first.http.call("DELETE", "/v1/community/push/subscriptions", {
      endpoint: device.endpoint,
    });
    assert.equal(removed.status, 204);
    assert.deepEqual((await first.http.get("/v1/community/push/subscriptions")).body, { items: [] });
    assert.deepEqual((await second.http.get("/v1/community/push/subscriptions")).body, {
      items: [{ endpoint: other.endpoint }],
    });
  });

  test("subscriptions are validated: an http endpoint or bad keys are 400 naming the field", async () => {
    const citizen = await user("push-citizen-3", "citizen");
    const keys = { p256dh: "BNc", auth: "abc" };
    const plain = await citizen.http.call("PUT", "/v1/community/push/subscriptions", {
      endpoint: "http://127.0.0.1/push",
      keys,
    });
    assert.equal(plain.status, 400);
    assert.equal(plain.body.field, "endpoint");
    const badKey = await citizen.http.call("PUT", "/v1/community/push/subscriptions", {
      endpoint: "https://127.0.0.1/push",
      keys: { ...keys, auth: "no spaces" },
    });
    assert.equal(badKey.status, 400);
    assert.match(String(badKey.body.field), /keys/);
  });
});
