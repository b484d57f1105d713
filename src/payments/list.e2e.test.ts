/**
 * Searching payments (GET /v1/payments): filters, cursor pagination, customers limited to their own
 * payments, problem details for bad filters; and a withdrawal's history row opening its receipt.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { euroGateway, finalPayment, type PaymentsHarness, startPaymentsHarness } from "./test/harness.ts";

describe("payment search", () => {
  let h: PaymentsHarness;
  let other: PaymentsHarness["customer"];
  let otherIban: string;
  const made: { id: string; type: "deposit" | "withdrawal"; status: string }[] = [];
  let startedAt: string;

  const pay = async (
    client: PaymentsHarness["customer"],
    type: "deposit" | "withdrawal",
    iban: string,
    amount: string,
  ) => {
    const id = randomUUID();
    const created = await client.post(`/v1/${type}s`, { id, iban, amount, asset: "EUR" });
    assert.ok([200, 202].includes(created.status), JSON.stringify(created.body));
    return finalPayment(client, id);
  };

  before(async () => {
    h = await startPaymentsHarness([euroGateway("alpha")], {}, 42, {
      config: { tokens: { sealIntervalMs: 100 } },
    });
    startedAt = new Date(Date.now() - 1000).toISOString();
    other = h.api.as(await h.api.signUp(`other-${randomUUID().slice(0, 8)}`));
    const opened = await other.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    otherIban = opened.body.iban as string;
    for (const [type, amount] of [
      ["deposit", "10000"],
      ["withdrawal", "2500"],
      ["withdrawal", "999999"], // more than the balance: FAILURE
      ["deposit", "300"],
    ] as const) {
      const payment = await pay(h.customer, type, h.iban, amount);
      made.push({ id: payment.id, type, status: payment.status });
    }
    await pay(other, "deposit", otherIban, "700");
  });
  after(async () => {
    await h?.stop();
  });

  test("staff page through every payment, newest first, with a cursor", async () => {
    const first = await h.admin.get("/v1/payments?limit=3");
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.items.length, 3);
    assert.equal(typeof first.body.nextCursor, "string");
    const second = await h.admin.get(`/v1/payments?limit=3&cursor=${first.body.nextCursor}`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.items.length, 2);
    assert.equal(second.body.nextCursor, null);
    const ids = [...first.body.items, ...second.body.items].map((p: { id: string }) => p.id);
    assert.equal(new Set(ids).size, 5, "no payment twice across pages");
    const created = [...first.body.items, ...second.body.items].map(
      (p: { createdAt: string }) => p.createdAt,
    );
    assert.deepEqual(created, [...created].sort().reverse(), "newest first");
  });

  test("filters combine: IBAN, status, type, gateway, time range", async () => {
    const mine = await h.admin.get(`/v1/payments?iban=${h.iban}`);
    assert.deepEqual(
      mine.body.items.map((p: { id: string }) => p.id),
      made.map((p) => p.id).reverse(),
    );
    const failed = await h.admin.get(`/v1/payments?iban=${h.iban}&status=FAILURE`);
    assert.deepEqual(
      failed.body.items.map((p: { id: string }) => p.id),
      made.filter((p) => p.status === "FAILURE").map((p) => p.id),
    );
    const withdrawals = await h.admin.get(`/v1/payments?type=withdrawal&iban=${h.iban}`);
    assert.equal(withdrawals.body.items.length, 2);
    const viaAlpha = await h.admin.get("/v1/payments?gateway=alpha&status=SUCCESS");
    assert.equal(viaAlpha.body.items.length, 4);
    const viaNone = await h.admin.get("/v1/payments?gateway=nowhere");
    assert.deepEqual(viaNone.body.items, []);
    const inRange = await h.admin.get(`/v1/payments?from=${encodeURIComponent(startedAt)}`);
    assert.equal(inRange.body.items.length, 5);
    const before = await h.admin.get(`/v1/payments?to=${encodeURIComponent(startedAt)}`);
    assert.equal(before.body.items.length, 0);
  });

  test("a customer sees only their own payments", async () => {
    const own = await other.get("/v1/payments");
    assert.equal(own.status, 200);
    assert.equal(own.body.items.length, 1);
    assert.equal(own.body.items[0].iban, otherIban);
    const theirs = await other.get(`/v1/payments?iban=${h.iban}`);
    assert.deepEqual(theirs.body.items, []);
  });

  test("an auditor reads every payment, one by one too, and makes none (403)", async () => {
    const username = `auditor-${randomUUID().slice(0, 8)}`;
    await h.api.signUp(username);
    const found = await h.admin.get(`/v1/admin/users?search=${username}`);
    const id = found.body.items[0].id as string;
    assert.equal((await h.admin.call("PUT", `/v1/admin/users/${id}/roles/auditor`)).status, 200);
    assert.equal((await h.admin.call("DELETE", `/v1/admin/users/${id}/roles/customer`)).status, 200);
    const auditor = h.api.as(await h.api.signIn(username, "correct horse battery staple"));
    const all = await auditor.get(`/v1/payments?iban=${h.iban}`);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.items.map((item: { id: string }) => item.id).sort(),
      made.map((m) => m.id).sort(),
    );
    assert.equal((await auditor.get(`/v1/payments/${made[0]?.id}`)).status, 200);
    const deposit = await auditor.post("/v1/deposits", {
      id: randomUUID(),
      iban: h.iban,
      amount: "1",
      asset: "EUR",
    });
    assert.equal(deposit.status, 403);
  });

  test("bad filters are 400 problems naming the field", async () => {
    for (const [query, field] of [
      ["status=LOST", "status"],
      ["type=refund", "type"],
      ["from=yesterday", "from"],
      ["cursor=not-a-cursor", "cursor"],
      ["iban=NL00OPEN0000000000", "iban"],
      ["limit=0", "limit"],
      ["gateway=Not%20A%20Name", "gateway"],
    ] as const) {
      const answer = await h.admin.get(`/v1/payments?${query}`);
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.headers.get("content-type"), "application/problem+json; charset=utf-8");
      assert.equal(answer.body.code, "validation_failed", query);
      assert.equal(answer.body.field, field, query);
    }
    const anonymous = await h.api.call("GET", "/v1/payments");
    assert.equal(anonymous.status, 401);
  });

  test("what the OpenAPI document allows is answered: an empty time range, any cursor of the right shape", async () => {
    const at = encodeURIComponent(startedAt);
    const empty = await h.admin.get(`/v1/payments?from=${at}&to=${at}`);
    assert.deepEqual([empty.status, empty.body.items, empty.body.nextCursor], [200, [], null]);
    const beforeEverything = await h.admin.get(`/v1/payments?cursor=0_${randomUUID()}`);
    assert.deepEqual([beforeEverything.status, beforeEverything.body.items], [200, []]);
  });

  test("a withdrawal's history row opens its receipt", async () => {
    const withdrawal = made.find((p) => p.type === "withdrawal" && p.status === "SUCCESS");
    assert.ok(withdrawal);
    const history = await h.customer.get(`/v1/accounts/${h.iban}/transactions`);
    const row = history.body.items.find((item: { description: string }) =>
      /withdrawal/i.test(item.description),
    );
    assert.ok(row, JSON.stringify(history.body.items));
    // The tokenizer signs receipts shortly after the movement: wait for it.
    let proof = await h.customer.get(`/v1/tokens/${row.receiptId}/proof`);
    for (let i = 0; i < 100 && proof.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      proof = await h.customer.get(`/v1/tokens/${row.receiptId}/proof`);
    }
    assert.ok([200, 202].includes(proof.status), `receipt of the row: ${proof.status}`);
    assert.equal(proof.body.receipt.data.amount, "2500");
    assert.equal(proof.body.receipt.data.kind, "burn");
  });
});
