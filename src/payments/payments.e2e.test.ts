import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fetchFleetCaptures } from "../dev/gateway-simulators/fleet.ts";
import {
  euroGateway,
  finalPayment,
  type PaymentsHarness,
  type PaymentView,
  startPaymentsHarness,
} from "./test/harness.ts";

describe("deposits and withdrawals through the gateways", () => {
  let h: PaymentsHarness;
  before(async () => {
    h = await startPaymentsHarness([euroGateway("alpha"), euroGateway("beta"), euroGateway("gamma")]);
  });
  after(async () => {
    await h?.stop();
  });

  test("a deposit credits the account once the gateway captured it", async () => {
    const id = randomUUID();
    const created = await h.customer.post("/v1/deposits", {
      id,
      iban: h.iban,
      amount: "10000",
      asset: "EUR",
    });
    assert.ok([200, 202].includes(created.status), JSON.stringify(created.body));
    const payment = await finalPayment(h.customer, id);
    assert.equal(payment.status, "SUCCESS", JSON.stringify(payment));
    assert.equal(payment.attempts.length, 1);
    assert.equal(payment.attempts[0]?.outcome, "succeeded");
    assert.match(payment.attempts[0]?.why ?? "", /pick/);
    const account = await h.customer.get(`/v1/accounts/${h.iban}`);
    assert.equal(account.body.balance, "10000");
    const captures = await fetchFleetCaptures(h.fleet.gateways);
    assert.equal(captures.byPaymentId.get(id)?.count, 1);
  });

  test("a withdrawal reserves at once and posts on success", async () => {
    const id = randomUUID();
    const created = await h.customer.post("/v1/withdrawals", {
      id,
      iban: h.iban,
      amount: "2500",
      asset: "EUR",
    });
    assert.ok([200, 202].includes(created.status), JSON.stringify(created.body));
    const payment = await finalPayment(h.customer, id);
    assert.equal(payment.status, "SUCCESS", JSON.stringify(payment));
    const account = await h.customer.get(`/v1/accounts/${h.iban}`);
    assert.equal(account.body.balance, "7500");
  });

  test("a withdrawal above the balance fails without touching a gateway", async () => {
    const id = randomUUID();
    await h.customer.post("/v1/withdrawals", { id, iban: h.iban, amount: "999999", asset: "EUR" });
    const payment = await finalPayment(h.customer, id);
    assert.equal(payment.status, "FAILURE");
    assert.equal(payment.reason, "insufficient_funds");
    assert.equal(payment.attempts.length, 0);
  });

  test("the same id again answers the same payment; another body is a conflict", async () => {
    const id = randomUUID();
    const body = { id, iban: h.iban, amount: "100", asset: "EUR" };
    await h.customer.post("/v1/deposits", body);
    await finalPayment(h.customer, id);
    const again = await h.customer.post("/v1/deposits", body);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "SUCCESS");
    const other = await h.customer.post("/v1/deposits", { ...body, amount: "101" });
    assert.equal(other.status, 409);
    const captures = await fetchFleetCaptures(h.fleet.gateways);
    assert.equal(captures.byPaymentId.get(id)?.count, 1);
  });

  test("a chargeback reported by the gateway's signed callback reverses the deposit", async () => {
    const id = randomUUID();
    await h.customer.post("/v1/deposits", { id, iban: h.iban, amount: "700", asset: "EUR" });
    const done = await finalPayment(h.customer, id);
    assert.equal(done.status, "SUCCESS");
    const before = BigInt((await h.customer.get(`/v1/accounts/${h.iban}`)).body.balance);
    const gateway = h.fleet.gateways.find((g) => g.name === done.gateway);
    const reversal = await fetch(`${gateway?.url}/admin/reversals`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ idempotencyKey: `lf-${id}`, reason: "chargeback" }),
    });
    assert.equal(reversal.status, 200);
    let payment: PaymentView = done;
    for (let i = 0; i < 200 && payment.status !== "REVERSED"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      payment = (await h.customer.get(`/v1/payments/${id}`)).body as PaymentView;
    }
    assert.equal(payment.status, "REVERSED");
    const after = BigInt((await h.customer.get(`/v1/accounts/${h.iban}`)).body.balance);
    assert.equal(before - after, 700n);
  });

  test("a callback without a valid signature is refused", async () => {
    const forged = await fetch(`${h.tp.url}/v1/payments/callbacks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": `t=${Date.now()},v1=${"0".repeat(64)}` },
      body: JSON.stringify({ eventId: "e1", paymentId: randomUUID(), status: "succeeded" }),
    });
    assert.equal(forged.status, 401);
  });

  test("metrics per gateway are exposed for Prometheus (to admins)", async () => {
    const scrape = await h.admin.get("/metrics");
    assert.equal(scrape.status, 200);
    const metrics = scrape.body as unknown as string;
    assert.match(metrics, /ledgerflow_gateway_requests_total\{gateway="(alpha|beta|gamma)"\} [1-9]/);
    assert.match(metrics, /ledgerflow_gateway_latency_seconds_bucket/);
    assert.match(metrics, /ledgerflow_gateway_breaker_state\{gateway="alpha"\} 0/);
    assert.match(metrics, /ledgerflow_gateway_in_flight/);
    assert.match(metrics, /ledgerflow_gateway_outcomes_total\{gateway="[a-z]+",outcome="succeeded"\}/);
  });
});
