/** What `npm start` runs: the default simulator fleet, registered on first start, moving money. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform } from "../../test/support/platform.ts";
import type { GatewayFleet } from "../dev/gateway-simulators/fleet.ts";
import { finalPayment } from "./test/harness.ts";

let tp: TestPlatform | undefined;
after(async () => tp?.stop());

test("the default fleet serves every method, including pending payments completed by signed callbacks", async () => {
  tp = await startTestPlatform({ tokens: { sealIntervalMs: 100 } });
  const fleet = tp.platform.simulators as GatewayFleet | undefined;
  assert.ok(fleet, "embedded mode starts the simulated gateways by default");
  // Every simulated gateway answers pending sometimes; make one always do so, to see the callback path.
  fleet.gateways
    .find((g) => g.name === "custody-bank")
    ?.simulator.updateProfile({ pendingRate: 1, errorRate: 0, timeoutRate: 0 });
  const api = apiClient(tp.url);
  const customer = api.as(await api.signUp(`c-${randomUUID().slice(0, 8)}`));
  const account = await customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  const iban = account.body.iban as string;
  const methods = ["card", "sepa_instant", "ewallet", "custody", "bank_transfer"];
  const ids = methods.map(() => randomUUID());
  await Promise.all(
    methods.map((method, i) =>
      customer.post("/v1/deposits", { id: ids[i], iban, amount: "1000", asset: "EUR", method }, false),
    ),
  );
  const done = await Promise.all(ids.map((id) => finalPayment(customer, id, 30_000)));
  for (const [i, p] of done.entries())
    assert.equal(p.status, "SUCCESS", `${methods[i]}: ${JSON.stringify(p)}`);
  assert.equal(done[3]?.gateway, "custody-bank");
  assert.equal(done[3]?.attempts[0]?.outcome, "pending");
  const stats = fleet.gateways.find((g) => g.name === "custody-bank")?.simulator.stats();
  assert.ok((stats?.callbacksDelivered ?? 0) >= 1, "the pending payment's completion was called back");
  const balance = await customer.get(`/v1/accounts/${iban}`);
  assert.equal(balance.body.balance, "5000");
});
