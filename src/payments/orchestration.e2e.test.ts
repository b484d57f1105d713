/**
 * Chaos scenarios against the real platform and real simulator servers, checked with the
 * simulators' own capture records (an external auditor's view): nothing is ever captured twice.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import { SMTPServer } from "smtp-server";
import { fetchFleetCaptures } from "../dev/gateway-simulators/fleet.ts";
import {
  euroGateway,
  finalPayment,
  type PaymentsHarness,
  type PaymentView,
  startPaymentsHarness,
} from "./test/harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function depositMany(h: PaymentsHarness, count: number, extra: Record<string, unknown> = {}) {
  const ids = Array.from({ length: count }, () => randomUUID());
  await Promise.all(
    ids.map(async (id, i) => {
      const amount = String(100 + ((i * 7919) % 900));
      const res = await h.customer.post(
        "/v1/deposits",
        { id, iban: h.iban, amount, asset: "EUR", ...extra },
        false,
      );
      assert.ok([200, 202].includes(res.status), JSON.stringify(res.body));
    }),
  );
  return Promise.all(ids.map((id) => finalPayment(h.customer, id, 60_000)));
}

async function assertNoDoubleCapture(h: PaymentsHarness, payments: readonly PaymentView[]) {
  const captures = await fetchFleetCaptures(h.fleet.gateways);
  assert.deepEqual(captures.doubleCaptured, []);
  for (const p of payments) {
    const captured = captures.byPaymentId.get(p.id);
    if (p.status === "SUCCESS") {
      assert.equal(captured?.count, 1, `payment ${p.id} captured once`);
      assert.deepEqual(captured?.gateways, [p.gateway], `captured where the payment says (${p.id})`);
    } else {
      assert.equal(captured, undefined, `failed payment ${p.id} was not captured`);
    }
  }
  return captures;
}

describe("one gateway 100% down", () => {
  let h: PaymentsHarness;
  after(async () => h?.stop());

  test("every payment succeeds through the others and the breaker opens", async () => {
    h = await startPaymentsHarness(
      [euroGateway("alpha", { down: true }), euroGateway("beta"), euroGateway("gamma")],
      {
        orchestrator: { healthCheckIntervalMs: 100 },
      },
    );
    const payments = await depositMany(h, 80);
    assert.deepEqual(
      payments.filter((p) => p.status !== "SUCCESS").map((p) => [p.id, p.reason]),
      [],
    );
    const captures = await assertNoDoubleCapture(h, payments);
    assert.ok(![...captures.byPaymentId.values()].some((c) => c.gateways.includes("alpha")));
    const failedOver = payments.filter((p) => p.attempts.length > 1);
    for (const p of failedOver) assert.equal(p.attempts[0]?.gateway, "alpha");
    const gateways = await h.admin.get("/v1/admin/gateways");
    const alpha = gateways.body.gateways.find((g: { name: string }) => g.name === "alpha");
    assert.equal(alpha.breaker, "open");
    // Once open, alpha is skipped with a reason instead of being called.
    const late = await depositMany(h, 10);
    for (const p of late) {
      assert.equal(p.status, "SUCCESS");
      assert.ok(p.attempts.every((a: { gateway: string }) => a.gateway !== "alpha"));
      assert.ok(
        p.attempts[0]?.skipped.some(
          (s: { gateway: string; reason: string }) => s.gateway === "alpha" && /circuit/.test(s.reason),
        ),
      );
    }
  });
});

describe("a slow gateway that times out", () => {
  let h: PaymentsHarness;
  after(async () => h?.stop());

  test("fails over only after asking the status: no double capture", async () => {
    h = await startPaymentsHarness(
      [
        euroGateway("slow", {
          timeoutRate: 0.5,
          timeoutHangMs: 3_000,
          latency: { distribution: "lognormal", p50Ms: 150, p99Ms: 900 },
        }),
        euroGateway("steady-a"),
        euroGateway("steady-b"),
      ],
      {
        seedOverrides: { slow: { timeoutMs: 250, weight: 10_000 } },
        orchestrator: { breakerConsecutiveFailures: 1_000, breakerFailureRate: 0.99 },
      },
      7,
    );
    const payments = await depositMany(h, 60);
    assert.ok(
      payments.every((p) => p.status === "SUCCESS"),
      JSON.stringify(payments.filter((p) => p.status !== "SUCCESS")),
    );
    await assertNoDoubleCapture(h, payments);
    const stats = await (await fetch(`${h.fleet.gateways[0]?.url}/admin/stats`)).json();
    assert.ok(stats.timeoutsExecuted + stats.timeoutsLost > 0, "the slow gateway did time out");
    const afterTimeout = payments.flatMap((p) => p.attempts).filter((a) => /timed out/.test(a.detail ?? ""));
    assert.ok(afterTimeout.length > 0);
    // A timed-out call that was executed anyway is kept where it is (never re-sent elsewhere).
    for (const p of payments) {
      const first = p.attempts[0];
      if (first?.gateway === "slow" && /status check: succeeded/.test(first.detail ?? "")) {
        assert.equal(p.gateway, "slow");
        assert.equal(p.attempts.length, 1);
      }
    }
  });
});

describe("a flapping gateway", () => {
  let h: PaymentsHarness;
  let smtp: SMTPServer;
  const mails: string[] = [];
  after(async () => {
    await h?.stop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  test("the breaker opens, probes and closes; traffic returns; alerts are de-duplicated", async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, _session, callback) {
        let text = "";
        stream.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        stream.on("end", () => {
          mails.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    h = await startPaymentsHarness([euroGateway("flappy"), euroGateway("backup")], {
      seedOverrides: { flappy: { weight: 10_000 } },
      orchestrator: { halfOpenAfterMs: 300, breakerConsecutiveFailures: 3, healthCheckIntervalMs: 100 },
      alerts: {
        quietMs: 0,
        // Configured as an operator would: LEDGERFLOW_ALERTS_SMTP_URL and LEDGERFLOW_ALERTS_EMAIL_TO.
        smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
        emailTo: "ops@localhost",
      },
    });
    const flappy = h.fleet.gateways.find((g) => g.name === "flappy");
    assert.ok(flappy);
    const conditionOf = async () =>
      (await h.admin.get("/v1/admin/gateways")).body.gateways.find(
        (g: { name: string }) => g.name === "flappy",
      );

    await flappy.simulator.updateProfile({ down: true });
    const whileDown = await depositMany(h, 20);
    assert.ok(whileDown.every((p) => p.status === "SUCCESS"));
    assert.equal((await conditionOf()).breaker, "open");
    // Down again in the middle of probing: one more "down" would be a duplicate of the first.
    await sleep(400);
    await depositMany(h, 3);
    assert.equal((await conditionOf()).breaker, "open");

    flappy.simulator.updateProfile({ down: false });
    await sleep(400);
    const afterRecovery = await depositMany(h, 30);
    assert.ok(afterRecovery.every((p) => p.status === "SUCCESS"));
    assert.equal((await conditionOf()).breaker, "closed");
    assert.ok(
      afterRecovery.some((p) => p.gateway === "flappy"),
      "traffic returned to the recovered gateway",
    );
    await assertNoDoubleCapture(h, [...whileDown, ...afterRecovery]);

    await h.payments.flushAlerts();
    const subjects = mails.map((m) => /Subject: (.*)/.exec(m)?.[1]?.trim());
    assert.deepEqual(subjects, ["[ledgerflow] gateway flappy down", "[ledgerflow] gateway flappy recovered"]);
  });
});

describe("routing rules", () => {
  let h: PaymentsHarness;
  after(async () => h?.stop());

  test("region, currency and method are respected; an unservable payment fails with reasons", async () => {
    h = await startPaymentsHarness([
      euroGateway("eu-sepa"),
      {
        name: "us-card",
        kind: "card_acquirer",
        regions: ["US"],
        currencies: ["USD", "EUR"],
        methods: ["card"],
        latency: { distribution: "constant", ms: 1 },
      },
      { name: "eu-wallet", kind: "ewallet", regions: ["EU"], currencies: ["EUR"], methods: ["ewallet"] },
    ]);
    const usd = await h.customer.post("/v1/accounts", { id: randomUUID(), asset: "USD" });
    const usdIban = usd.body.iban as string;
    const eu = await depositMany(h, 20, { region: "EU" });
    assert.ok(eu.every((p) => p.status === "SUCCESS" && ["eu-sepa", "eu-wallet"].includes(p.gateway ?? "")));
    const wallet = await depositMany(h, 5, { method: "ewallet" });
    assert.ok(wallet.every((p) => p.gateway === "eu-wallet"));
    const usIds = Array.from({ length: 10 }, () => randomUUID());
    for (const id of usIds)
      await h.customer.post(
        "/v1/deposits",
        { id, iban: usdIban, amount: "500", asset: "USD", region: "US" },
        false,
      );
    const us = await Promise.all(usIds.map((id) => finalPayment(h.customer, id)));
    assert.ok(us.every((p) => p.status === "SUCCESS" && p.gateway === "us-card"));
    const nowhereId = randomUUID();
    await h.customer.post("/v1/deposits", {
      id: nowhereId,
      iban: usdIban,
      amount: "500",
      asset: "USD",
      region: "EU",
    });
    const nowhere = await finalPayment(h.customer, nowhereId);
    assert.equal(nowhere.status, "FAILURE");
    assert.equal(nowhere.reason, "no gateway can take this payment");
    await assertNoDoubleCapture(h, [...eu, ...wallet, ...us, nowhere]);
  });
});

describe("registry changes at runtime", () => {
  let h: PaymentsHarness;
  after(async () => h?.stop());

  test("a gateway removed under load loses no payment; an added one takes traffic", async () => {
    h = await startPaymentsHarness([
      euroGateway("one", { latency: { distribution: "constant", ms: 20 } }),
      euroGateway("two", { latency: { distribution: "constant", ms: 20 } }),
      euroGateway("three", { latency: { distribution: "constant", ms: 20 } }),
    ]);
    const load = depositMany(h, 150);
    await sleep(300);
    const token = await h.api.signIn("admin", "admin-password-for-tests");
    const removed = await h.api.call("DELETE", "/v1/admin/gateways/two", undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(removed.status, 204);
    const payments = await load;
    assert.ok(
      payments.every((p) => p.status === "SUCCESS"),
      "no payment lost",
    );
    await assertNoDoubleCapture(h, payments);
    const later = await depositMany(h, 20);
    assert.ok(later.every((p) => p.gateway !== "two"));

    const two = h.fleet.gateways.find((g) => g.name === "two");
    const added = await h.api.call(
      "POST",
      "/v1/admin/gateways",
      {
        name: "two-again",
        url: two?.url,
        regions: ["EU"],
        currencies: ["EUR"],
        methods: ["sepa_instant"],
        weight: 1_000_000,
        callbackSecret: h.fleet.callbackSecret,
      },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const disabled = await h.api.call(
      "PATCH",
      "/v1/admin/gateways/one",
      { enabled: false },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(disabled.status, 200);
    const routed = await depositMany(h, 20);
    assert.ok(routed.every((p) => p.gateway !== "one"));
    assert.ok(
      routed.filter((p) => p.gateway === "two-again").length >= 10,
      "the heavy new gateway takes most traffic",
    );
  });
});

/** The largest number of sorted instants that fall within one window of `windowMs`. */
function mostWithin(sortedMs: readonly number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < sortedMs.length; last++) {
    while ((sortedMs[last] ?? 0) - (sortedMs[first] ?? 0) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe("burst limits", () => {
  let h: PaymentsHarness;
  after(async () => h?.stop());

  test("our limiter keeps each gateway under its own limit; excess goes elsewhere or waits", async () => {
    const limit = { requestsPerSecond: 20, burst: 5 };
    h = await startPaymentsHarness(
      [euroGateway("small", { rateLimit: limit }), euroGateway("tiny", { rateLimit: limit })],
      // Ours under theirs: requests bunch up on the way (more so on a loaded machine, where a CI run
      // once saw one refusal with 18/s, burst 4), so an exact copy would overshoot.
      {
        seedOverrides: {
          small: { rateLimit: { perSecond: 15, burst: 3 } },
          tiny: { rateLimit: { perSecond: 15, burst: 3 } },
        },
      },
    );
    const payments = await depositMany(h, 40);
    assert.ok(payments.every((p) => p.status === "SUCCESS"));
    // What our limiter controls is when we send: in any window of T ms a gateway got at most
    // burst + rate × T attempts from us. (Whether the simulator then refused one depends on how the
    // requests bunched up in transit on a loaded machine, which a CI run once showed; so its refusals
    // are not asserted to be zero, only harmless: every payment succeeded above.)
    for (const gateway of ["small", "tiny"]) {
      const sentAtMs = payments
        .flatMap((p) =>
          p.attempts.filter((a) => a.gateway === gateway).map((a) => Date.parse(a.startedAt ?? "")),
        )
        .sort((a, b) => a - b);
      for (const windowMs of [100, 250, 1_000])
        assert.ok(
          mostWithin(sentAtMs, windowMs) <= 3 + Math.ceil((15 * windowMs) / 1_000),
          `${gateway}: ${mostWithin(sentAtMs, windowMs)} attempts within ${windowMs} ms`,
        );
    }
    const skippedForBurst = payments.flatMap((p) => p.attempts.flatMap((a) => a.skipped));
    assert.ok(skippedForBurst.some((s) => s.reason === "burst limit reached"));
    await assertNoDoubleCapture(h, payments);
  });
});
