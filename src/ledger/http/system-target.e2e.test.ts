/**
 * System accounts (branch cash, payments clearing) are not valid targets of a customer's transfer:
 * REST, batch and GraphQL answer a 422 problem naming the field, and nothing moves.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";

describe("system accounts as transfer targets", () => {
  let tp: TestPlatform;
  let customer: ReturnType<ReturnType<typeof apiClient>["as"]>;
  let iban: string;
  let branchIban: string;

  before(async () => {
    tp = await startTestPlatform();
    const api = apiClient(tp.url);
    const admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
    customer = api.as(await api.signUp(`carol-${randomUUID().slice(0, 8)}`));
    const opened = await customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    iban = opened.body.iban as string;
    const deposit = await admin.post("/v1/operations", {
      id: randomUUID(),
      type: "deposit",
      iban,
      amount: "10000",
      branch: "rotterdam",
    });
    assert.equal(deposit.status, 201, JSON.stringify(deposit.body));
    // The customer learns the branch's cash account from their own history.
    const history = await customer.get(`/v1/accounts/${iban}/transactions`);
    branchIban = history.body.items[0].counterparty as string;
  });
  after(async () => {
    await tp?.stop();
  });

  const balance = async () => (await customer.get(`/v1/accounts/${iban}`)).body.balance;

  test("a customer's transfer to a system account is a 422 problem on `to`", async () => {
    const answer = await customer.post("/v1/transfers", {
      id: randomUUID(),
      from: iban,
      to: branchIban,
      amount: "100",
      asset: "EUR",
    });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.equal(answer.body.code, "system_account");
    assert.equal(answer.body.field, "to");
    assert.match(answer.body.detail, /system account/);
    assert.equal(await balance(), "10000");
  });

  test("the batch endpoint names the transfer", async () => {
    const ok = { id: randomUUID(), from: iban, to: iban, amount: "1", asset: "EUR" };
    const bad = { id: randomUUID(), from: iban, to: branchIban, amount: "100", asset: "EUR" };
    const answer = await customer.post("/v1/transfers/batch", { transfers: [ok, bad] });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.equal(answer.body.code, "system_account");
    assert.equal(answer.body.field, "transfers/1/to");
    assert.equal(await balance(), "10000");
  });

  test("GraphQL refuses it too", async () => {
    const answer = await customer.post(
      "/graphql",
      {
        query: `mutation { moneyTransfer(id: "${randomUUID()}", from: "${iban}", to: "${branchIban}", amount: "100", asset: "EUR") { status } }`,
      },
      false,
    );
    assert.match(JSON.stringify(answer.body), /system_account/);
    assert.equal(await balance(), "10000");
  });
});

describe("configured assets", () => {
  test("GET /v1/assets lists every asset an account can be opened in, with its scale", async () => {
    const tp = await startTestPlatform();
    try {
      const answer = await apiClient(tp.url).call("GET", "/v1/assets");
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.items.map((a: { code: string }) => a.code),
        ["EUR", "USD", "GBP", "PTS"],
      );
      assert.equal(answer.body.items.find((a: { code: string }) => a.code === "PTS").scale, 0);
    } finally {
      await tp.stop();
    }
  });
});
