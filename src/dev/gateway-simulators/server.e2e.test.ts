import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { verifyCallbackSignature } from "../../payments/callback-signature.ts";
import { type Clock, manualClock, seededRandom, systemClock } from "../../platform/clock.ts";
import type { CapturesReport, PaymentView } from "./payment-store.ts";
import type { GatewayProfileInput } from "./profile.ts";
import { type GatewaySimulator, startGatewaySimulator } from "./server.ts";

const secret = "e2e-callback-secret";
const running: GatewaySimulator[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

async function simulator(
  profile: Partial<GatewayProfileInput> = {},
  options: { clock?: Clock; seed?: number } = {},
): Promise<GatewaySimulator> {
  const sim = await startGatewaySimulator({
    profile: {
      name: "card",
      kind: "card_acquirer",
      regions: ["EU", "US"],
      currencies: ["EUR", "USD"],
      methods: ["card"],
      ...profile,
    },
    random: seededRandom(options.seed ?? 42),
    clock: options.clock ?? systemClock,
    callbackSecret: secret,
    callbackDelivery: { backoffBaseMs: 10, timeoutMs: 1_000 },
  });
  running.push(sim);
  return sim;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? {} : JSON.parse(text) };
}

function pay(
  sim: GatewaySimulator,
  key: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Answer> {
  return call(`${sim.url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

function admin(sim: GatewaySimulator, method: "PUT" | "POST", path: string, body: unknown): Promise<Answer> {
  return call(`${sim.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function captures(sim: GatewaySimulator): Promise<CapturesReport> {
  return (await call(`${sim.url}/admin/captures`)).body as unknown as CapturesReport;
}

const payment = (paymentId: string, extra: Record<string, unknown> = {}) => ({
  paymentId,
  amount: "12500",
  currency: "EUR",
  direction: "payin",
  ...extra,
});

test("a replay with the same key and body returns the stored payment and never captures again", async () => {
  const sim = await simulator({ latency: { distribution: "constant", ms: 5 } });
  const first = await pay(sim, "key-1", payment("pay-1"));
  assert.equal(first.status, 201);
  assert.equal(first.body.status, "succeeded");
  const replay = await pay(sim, "key-1", payment("pay-1"));
  assert.equal(replay.status, 200);
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(replay.body, first.body);
  const report = await captures(sim);
  assert.equal(report.total, 1);
  assert.deepEqual(report.countsByPaymentId, { "pay-1": 1 });
});

test("50 concurrent identical requests capture once and all see the same payment", async () => {
  const sim = await simulator({ latency: { distribution: "constant", ms: 30 } });
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => pay(sim, "key-burst", payment("pay-burst"))),
  );
  assert.equal(answers.filter((a) => a.status === 201).length, 1);
  assert.equal(answers.filter((a) => a.status === 200).length, 49);
  assert.equal(new Set(answers.map((a) => a.body.gatewayPaymentId)).size, 1);
  assert.deepEqual((await captures(sim)).countsByPaymentId, { "pay-burst": 1 });
});

test("concurrent duplicates stay at most once even when attempts fail with 500s", async () => {
  const sim = await simulator({ latency: { distribution: "constant", ms: 10 }, errorRate: 0.6 }, { seed: 9 });
  for (let round = 0; round < 5; round++) {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => pay(sim, `key-e${round}`, payment(`pay-e${round}`))),
    );
    assert.ok(answers.every((a) => a.status === 201 || a.status === 200 || a.status === 500));
    const succeeded = answers.filter((a) => a.status !== 500);
    assert.ok(succeeded.filter((a) => a.status === 201).length <= 1);
    assert.ok(new Set(succeeded.map((a) => a.body.gatewayPaymentId)).size <= 1);
  }
  const report = await captures(sim);
  assert.deepEqual(report.duplicates, []);
  assert.ok(report.total <= 5);
  assert.ok(
    ((await call(`${sim.url}/admin/stats`)).body.errors as number) > 0,
    "the seed must exercise errors",
  );
});

test("the same key with a different body is a conflict and changes nothing", async () => {
  const sim = await simulator();
  assert.equal((await pay(sim, "key-c", payment("pay-c"))).status, 201);
  const conflict = await pay(sim, "key-c", payment("pay-c", { amount: "99" }));
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.code, "conflict");
  assert.match(conflict.headers.get("content-type") ?? "", /application\/problem\+json/);
  const status = await call(`${sim.url}/payments/key-c`);
  assert.equal(status.body.amount, "12500");
  assert.equal((await captures(sim)).total, 1);
});

test("after a timeout the status query tells the truth, and a retry never captures twice", async () => {
  const sim = await simulator({ timeoutRate: 1, timeoutHangMs: 60_000 }, { seed: 5 });
  const outcomes: string[] = [];
  for (let i = 0; i < 12; i++) {
    await assert.rejects(pay(sim, `key-t${i}`, payment(`pay-t${i}`), AbortSignal.timeout(100)));
    const status = await call(`${sim.url}/payments/key-t${i}`);
    const captured = (await captures(sim)).countsByPaymentId[`pay-t${i}`] ?? 0;
    if (status.status === 200) {
      assert.equal(status.body.status, "succeeded");
      assert.equal(captured, 1);
      outcomes.push("executed");
    } else {
      assert.equal(status.status, 404);
      assert.equal(captured, 0);
      outcomes.push("lost");
    }
  }
  assert.ok(outcomes.includes("executed") && outcomes.includes("lost"), `both coin sides: ${outcomes}`);

  // The gateway recovers; the client retries every payment with its key: executed ones replay.
  assert.equal((await admin(sim, "PUT", "/admin/profile", { timeoutRate: 0 })).status, 200);
  for (let i = 0; i < 12; i++) {
    const retry = await pay(sim, `key-t${i}`, payment(`pay-t${i}`));
    assert.equal(retry.status, outcomes[i] === "executed" ? 200 : 201);
    assert.equal(retry.body.status, "succeeded");
  }
  const report = await captures(sim);
  assert.equal(report.total, 12);
  assert.deepEqual(report.duplicates, []);
});

test("a void answers with the payment if there is one, otherwise voids the key and refuses it later", async () => {
  const sim = await simulator({ latency: { distribution: "constant", ms: 1 } });
  const voidKey = (key: string) => call(`${sim.url}/payments/${key}/void`, { method: "POST" });

  // Nothing under the key yet (e.g. the timed-out original is still on its way): voided for good.
  const voided = await voidKey("key-v1");
  assert.equal(voided.status, 200);
  assert.equal(voided.body.status, "voided");
  assert.equal(voided.body.idempotencyKey, "key-v1");
  assert.deepEqual((await voidKey("key-v1")).body, voided.body, "voiding again answers the same");
  assert.deepEqual((await call(`${sim.url}/payments/key-v1`)).body, voided.body);
  const late = await pay(sim, "key-v1", payment("pay-v1"));
  assert.equal(late.status, 200);
  assert.equal(late.headers.get("idempotent-replayed"), "true");
  assert.equal(late.body.status, "voided");
  assert.equal((await captures(sim)).total, 0, "the late original was not executed");

  // A payment exists under the key: the void answers with it and changes nothing.
  const paid = await pay(sim, "key-v2", payment("pay-v2"));
  assert.equal(paid.status, 201);
  const notVoided = await voidKey("key-v2");
  assert.equal(notVoided.status, 200);
  assert.deepEqual(notVoided.body, paid.body);
  assert.equal((await call(`${sim.url}/payments/key-v2`)).body.status, "succeeded");
  assert.deepEqual((await captures(sim)).countsByPaymentId, { "pay-v2": 1 });
  const stats = sim.stats();
  assert.equal(stats.voided, 1);
  assert.equal(stats.voidedRefused, 1);
});

test("a scheduled outage window answers 503 with Retry-After, then the gateway is back", async () => {
  const clock = manualClock();
  const sim = await simulator({ outages: [{ fromMs: 1_000, toMs: 3_500 }] }, { clock });
  assert.equal((await pay(sim, "key-o1", payment("pay-o1"))).status, 201);
  clock.advance(1_000);
  const down = await pay(sim, "key-o2", payment("pay-o2"));
  assert.equal(down.status, 503);
  assert.equal(down.body.code, "unavailable");
  assert.equal(down.headers.get("retry-after"), "3");
  assert.equal((await call(`${sim.url}/health`)).status, 503);
  assert.equal((await call(`${sim.url}/payments/key-o1`)).status, 503);
  assert.equal((await call(`${sim.url}/admin/captures`)).status, 200, "admin works during outages");
  clock.advance(2_500);
  assert.equal((await call(`${sim.url}/health`)).status, 200);
  assert.equal((await pay(sim, "key-o2", payment("pay-o2"))).status, 201, "nothing was stored by the 503");
});

test("POST /admin/outage switches the gateway down and up, or down for a while", async () => {
  const clock = manualClock();
  const sim = await simulator({}, { clock });
  assert.equal((await admin(sim, "POST", "/admin/outage", { down: true })).body.down, true);
  assert.equal((await pay(sim, "key-d1", payment("pay-d1"))).status, 503);
  assert.equal((await pay(sim, "key-d1", payment("pay-d1"))).headers.get("retry-after"), null);
  assert.equal((await admin(sim, "POST", "/admin/outage", { down: false })).body.down, false);
  assert.equal((await pay(sim, "key-d1", payment("pay-d1"))).status, 201);

  await admin(sim, "POST", "/admin/outage", { down: true, forMs: 500 });
  assert.equal((await call(`${sim.url}/health`)).status, 503);
  clock.advance(500);
  assert.equal((await call(`${sim.url}/health`)).status, 200);
  assert.equal((await admin(sim, "POST", "/admin/outage", { down: false, forMs: 5 })).status, 400);
});

test("the rate limit answers 429 with Retry-After beyond the burst and refills with time", async () => {
  const clock = manualClock();
  const sim = await simulator({ rateLimit: { requestsPerSecond: 10, burst: 3 } }, { clock });
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await pay(sim, `key-r${i}`, payment(`pay-r${i}`)));
  assert.deepEqual(
    answers.map((a) => a.status),
    [201, 201, 201, 429, 429],
  );
  assert.equal(answers[3]?.body.code, "rate_limited");
  assert.equal(answers[3]?.body.retryAfterMs, 100);
  assert.equal(answers[3]?.headers.get("retry-after"), "1");
  assert.equal((await call(`${sim.url}/health`)).status, 200, "health is not rate limited");
  clock.advance(100);
  assert.equal((await pay(sim, "key-r3", payment("pay-r3"))).status, 201);
  assert.equal((await captures(sim)).total, 4);
});

interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/** A real HTTP receiver; it answers with `statuses` in turn (then 200) to exercise redelivery. */
async function callbackReceiver(statuses: number[] = []) {
  const received: ReceivedCallback[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, rawBody: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(statuses.shift() ?? 200).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callbacks`,
    received,
    async waitFor(count: number, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        assert.ok(Date.now() < deadline, `expected ${count} callbacks, got ${received.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("a pending payment completes later with a signed callback that verifies, and tampering is caught", async () => {
  const receiver = await callbackReceiver();
  const sim = await simulator({ pendingRate: 1, completionLatency: { distribution: "constant", ms: 80 } });
  const created = await pay(sim, "key-cb", payment("pay-cb", { callbackUrl: receiver.url }));
  assert.equal(created.status, 201);
  assert.equal(created.body.status, "pending");
  assert.equal((await captures(sim)).total, 0, "nothing captured while pending");

  await receiver.waitFor(1);
  const callback = receiver.received[0];
  assert.ok(callback !== undefined);
  const header = callback.headers["x-signature"] as string;
  const now = Date.now();
  assert.deepEqual(verifyCallbackSignature(secret, header, callback.rawBody, now, 60_000).ok, true);
  const event = JSON.parse(callback.rawBody);
  assert.equal(event.gatewayPaymentId, created.body.gatewayPaymentId);
  assert.equal(event.paymentId, "pay-cb");
  assert.equal(event.status, "succeeded");
  assert.equal(callback.headers["x-event-id"], event.eventId);
  assert.equal(typeof event.at, "string");

  const tampered = callback.rawBody.replace('"12500"', '"99999"');
  assert.notEqual(tampered, callback.rawBody);
  const rejected = (result: ReturnType<typeof verifyCallbackSignature>) =>
    result.ok ? "accepted" : result.code;
  assert.equal(
    rejected(verifyCallbackSignature(secret, header, tampered, now, 60_000)),
    "signature_mismatch",
  );
  assert.equal(
    rejected(verifyCallbackSignature("wrong", header, callback.rawBody, now, 60_000)),
    "signature_mismatch",
  );
  assert.equal(
    rejected(verifyCallbackSignature(secret, header, callback.rawBody, now + 61_000, 60_000)),
    "timestamp_out_of_tolerance",
  );

  const status = await call(`${sim.url}/payments/key-cb`);
  assert.equal(status.body.status, "succeeded");
  assert.deepEqual((await captures(sim)).countsByPaymentId, { "pay-cb": 1 });
  await receiver.close();
});

test("a failed callback delivery is retried with the same event id and a fresh signature", async () => {
  const receiver = await callbackReceiver([500, 503]);
  const sim = await simulator({ declineRate: 1 });
  const created = await pay(sim, "key-rd", payment("pay-rd", { callbackUrl: receiver.url }));
  assert.equal(created.status, 201);
  assert.equal(created.body.status, "failed");
  assert.equal(created.body.reason, "declined");
  await receiver.waitFor(3);
  const events = receiver.received.map((r) => JSON.parse(r.rawBody));
  assert.equal(new Set(events.map((e) => e.eventId)).size, 1);
  assert.ok(events.every((e) => e.status === "failed" && e.reason === "declined"));
  for (const r of receiver.received) {
    assert.equal(
      verifyCallbackSignature(secret, r.headers["x-signature"] as string, r.rawBody, Date.now(), 60_000).ok,
      true,
    );
  }
  assert.equal((await call(`${sim.url}/admin/stats`)).body.callbacksDelivered, 1);
  assert.equal((await captures(sim)).total, 0, "a declined payment moves no money");
  await receiver.close();
});

test("runtime profile changes take effect on the next request", async () => {
  const sim = await simulator();
  const latency = await admin(sim, "PUT", "/admin/profile", {
    latency: { distribution: "constant", ms: 150 },
  });
  assert.equal(latency.status, 200);
  const startedAt = performance.now();
  assert.equal((await pay(sim, "key-p1", payment("pay-p1"))).status, 201);
  assert.ok(performance.now() - startedAt >= 145, "latency applied");

  await admin(sim, "PUT", "/admin/profile", { latency: { distribution: "constant", ms: 0 }, errorRate: 1 });
  const failing = await pay(sim, "key-p2", payment("pay-p2"));
  assert.equal(failing.status, 500);
  assert.equal(failing.body.code, "internal");
  await admin(sim, "PUT", "/admin/profile", { errorRate: 0 });
  assert.equal(
    (await pay(sim, "key-p2", payment("pay-p2"))).status,
    201,
    "a 500 stores nothing: same key retries",
  );

  await admin(sim, "PUT", "/admin/profile", { currencies: ["USD"] });
  const unsupported = await pay(sim, "key-p3", payment("pay-p3"));
  assert.equal(unsupported.status, 422);
  assert.equal(unsupported.body.code, "currency_not_supported");
  assert.equal(
    (await pay(sim, "key-p3", payment("pay-p3", { currency: "USD" }))).status,
    201,
    "422 stored nothing",
  );

  const invalid = await admin(sim, "PUT", "/admin/profile", { timeoutRate: -1 });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.field, "timeoutRate");
  assert.equal((await admin(sim, "PUT", "/admin/profile", { name: "renamed" })).status, 400);
  const current = await call(`${sim.url}/admin/profile`);
  assert.deepEqual((current.body.profile as { currencies: string[] }).currencies, ["USD"]);
  assert.equal((await captures(sim)).total, 3);
});

test("requests are validated, and gateway rules reject what it cannot serve", async () => {
  const sim = await simulator({ amountMax: "100000", methods: ["card"] });
  const noKey = await call(`${sim.url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payment("pay-v")),
  });
  assert.equal(noKey.status, 400);
  assert.equal(noKey.body.field, "Idempotency-Key");
  assert.equal((await pay(sim, "key-v1", payment("pay-v", { amount: "12.50" }))).body.field, "amount");
  assert.equal((await pay(sim, "key-v1", payment("pay-v", { amount: "-5" }))).status, 400);
  assert.equal(
    (await pay(sim, "key-v1", payment("pay-v", { direction: "sideways" }))).body.field,
    "direction",
  );
  assert.equal((await pay(sim, "key-v1", payment("pay-v", { surprise: true }))).status, 400);
  const notJson = await call(`${sim.url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": "key-v1" },
    body: "{",
  });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.code, "validation_failed");
  assert.equal(
    (await pay(sim, "key-v1", payment("pay-v", { method: "ewallet" }))).body.code,
    "method_not_supported",
  );
  assert.equal(
    (await pay(sim, "key-v1", payment("pay-v", { region: "APAC" }))).body.code,
    "region_not_supported",
  );
  assert.equal(
    (await pay(sim, "key-v1", payment("pay-v", { amount: "100001" }))).body.code,
    "amount_above_limit",
  );
  assert.equal((await pay(sim, "key-v1", payment("pay-v", { amount: "100000" }))).status, 201);
  assert.equal((await call(`${sim.url}/payments/unknown-key`)).status, 404);
  assert.equal((await call(`${sim.url}/nowhere`)).body.code, "not_found");
});

test("a client that reuses a paymentId under new keys is caught by the captures record", async () => {
  const sim = await simulator();
  const first = await pay(sim, "key-x1", payment("pay-x", { direction: "payout" }));
  const second = await pay(sim, "key-x2", payment("pay-x", { direction: "payout" }));
  assert.notEqual(first.body.gatewayPaymentId, second.body.gatewayPaymentId);
  const listed = await call(`${sim.url}/payments?paymentId=pay-x`);
  assert.deepEqual(
    (listed.body.payments as PaymentView[]).map((p) => p.idempotencyKey),
    ["key-x1", "key-x2"],
  );
  const report = await captures(sim);
  assert.deepEqual(report.countsByPaymentId, { "pay-x": 2 });
  assert.deepEqual(report.duplicates, ["pay-x"]);
});

test("the same seed replays the same fates", async () => {
  const fates = async () => {
    const sim = await simulator({ errorRate: 0.3, declineRate: 0.3 }, { seed: 77 });
    const statuses = [];
    for (let i = 0; i < 20; i++) {
      const answer = await pay(sim, `key-s${i}`, payment(`pay-s${i}`));
      statuses.push(`${answer.status}:${answer.body.status ?? answer.body.code}`);
    }
    return statuses;
  };
  const first = await fates();
  assert.deepEqual(await fates(), first);
  assert.ok(new Set(first).size >= 3, `a mix of outcomes: ${first}`);
});

test("a succeeded payment can be reversed later, with a signed payment.reversed callback", async () => {
  const receiver = await callbackReceiver();
  const sim = await simulator();
  const created = await pay(sim, "key-rv", payment("pay-rv", { callbackUrl: receiver.url }));
  assert.equal(created.body.status, "succeeded");
  await receiver.waitFor(1);
  const reversed = await admin(sim, "POST", "/admin/reversals", {
    idempotencyKey: "key-rv",
    reason: "chargeback",
  });
  assert.equal(reversed.status, 200);
  assert.equal(reversed.body.status, "reversed");
  await receiver.waitFor(2);
  const event = JSON.parse(receiver.received[1]?.rawBody ?? "{}");
  assert.equal(event.type, "payment.reversed");
  assert.equal(event.status, "reversed");
  assert.equal(event.reason, "chargeback");
  const second = receiver.received[1];
  assert.ok(second !== undefined);
  assert.equal(
    verifyCallbackSignature(
      secret,
      second.headers["x-signature"] as string,
      second.rawBody,
      Date.now(),
      60_000,
    ).ok,
    true,
  );
  assert.equal((await call(`${sim.url}/payments/key-rv`)).body.status, "reversed");
  assert.equal((await admin(sim, "POST", "/admin/reversals", { idempotencyKey: "key-rv" })).status, 409);
  assert.equal((await admin(sim, "POST", "/admin/reversals", { idempotencyKey: "nope" })).status, 404);
  assert.equal((await captures(sim)).total, 1, "the capture stays on record");
  await receiver.close();
});
