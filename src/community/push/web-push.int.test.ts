/**
 * Web Push end to end on loopback: the web-push adapter signs (VAPID), encrypts (aes128gcm) and
 * POSTs over HTTPS to the loopback stand-in for a browser vendor's push service, which verifies the
 * VAPID JWT and decrypts the payload with the subscription's private key, as a browser would.
 */
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import webPush from "web-push";
import { freePort } from "../../../test/support/ports.ts";
import { type LoopbackPushService, startLoopbackPushService } from "./loopback-push-service.ts";
import { PushFailedError } from "./port.ts";
import { createWebPushSender } from "./web-push-sender.ts";

const vapidKeys = webPush.generateVAPIDKeys();
const vapid = { subject: "mailto:ops@ledgerflow.example", ...vapidKeys };
const notification = {
  title: "Officer Ada is nearby",
  body: "Say hi: 120 m away 👋",
  url: "/community",
  tag: "nearby",
};

describe("Web Push through the loopback push service", () => {
  let service: LoopbackPushService;
  let agent: Agent;
  before(async () => {
    service = await startLoopbackPushService();
    agent = new Agent({ ca: service.certificatePem, keepAlive: true });
  });
  after(async () => {
    agent?.destroy();
    await service?.close();
  });

  test("a notification arrives intact: VAPID verified, payload decrypted, TTL, urgency and topic kept", async () => {
    const sender = createWebPushSender({ vapid, agent });
    const subscription = service.subscribe(vapid.publicKey);
    const result = await sender.send(subscription, notification, {
      ttlS: 60,
      urgency: "high",
      topic: "nearby-officer",
    });
    assert.equal(result, "accepted");
    const push = await service.next(subscription.endpoint);
    assert.deepEqual(JSON.parse(push.payload), notification);
    assert.deepEqual(
      { ttlS: push.ttlS, urgency: push.urgency, topic: push.topic, sub: push.vapidSubject },
      { ttlS: 60, urgency: "high", topic: "nearby-officer", sub: vapid.subject },
    );
  });

  test("the sender's default TTL applies when the delivery names none", async () => {
    const sender = createWebPushSender({ vapid, agent, ttlS: 300 });
    const subscription = service.subscribe(vapid.publicKey);
    await sender.send(subscription, notification);
    assert.equal((await service.next(subscription.endpoint)).ttlS, 300);
  });

  test("an unsubscribed endpoint answers 410: the result is 'gone' (forget the subscription)", async () => {
    const sender = createWebPushSender({ vapid, agent });
    const subscription = service.subscribe(vapid.publicKey);
    service.unsubscribe(subscription.endpoint);
    assert.equal(await sender.send(subscription, notification), "gone");
  });

  test("signed with a key the subscription was not made for: 403, a PushFailedError that holds no key", async () => {
    const other = { subject: vapid.subject, ...webPush.generateVAPIDKeys() };
    const sender = createWebPushSender({ vapid: other, agent });
    const subscription = service.subscribe(vapid.publicKey);
    const error = await sender.send(subscription, notification).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PushFailedError);
    assert.equal(error.statusCode, 403);
    assert.equal(
      service.refused.at(-1)?.reason,
      "VAPID key is not the subscription's application server key",
    );
    const described = inspect(error, { depth: 20 });
    assert.ok(!described.includes(other.privateKey) && !described.includes(vapid.privateKey));
  });

  test("a push service that cannot be reached: PushFailedError without a status, and no key in it", async () => {
    const sender = createWebPushSender({ vapid, agent, timeoutMs: 2_000 });
    const subscription = {
      ...service.subscribe(vapid.publicKey),
      endpoint: `https://127.0.0.1:${await freePort()}/push/x`,
    };
    const error = await sender.send(subscription, notification).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PushFailedError);
    assert.equal(error.statusCode, undefined);
    assert.ok(!inspect(error, { depth: 20 }).includes(vapid.privateKey));
  });

  test("refused before sending: a payload over the record size, an http endpoint, a bad topic", async () => {
    const sender = createWebPushSender({ vapid, agent });
    const subscription = service.subscribe(vapid.publicKey);
    await assert.rejects(sender.send(subscription, { ...notification, body: "x".repeat(4_000) }), RangeError);
    await assert.rejects(
      sender.send({ ...subscription, endpoint: "http://127.0.0.1/push/x" }, notification),
      RangeError,
    );
    await assert.rejects(sender.send(subscription, notification, { topic: "not a topic!" }), RangeError);
    assert.equal(service.received.filter((p) => p.endpoint === subscription.endpoint).length, 0);
  });

  test("VAPID keys that are not a P-256 pair are refused at creation", () => {
    assert.throws(() => createWebPushSender({ vapid: { ...vapid, privateKey: "c2hvcnQ" }, agent }));
    assert.throws(() =>
      createWebPushSender({ vapid: { ...vapid, subject: "ops@ledgerflow.example" }, agent }),
    );
  });
});
