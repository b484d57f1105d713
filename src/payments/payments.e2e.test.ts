import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fetchFleetCaptures } from "./simulators/fleet.ts";
import { euroGateway, finalPayment, type PaymentsHarness, startPaymentsHarness } from "./test/harness.ts";

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
    assert.equal(payment.attempts[0].outcome, "succeeded");
    assert.match(payment.attempts[0].why, /pick/);
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
});
