import assert from "node:assert/strict";
import { test } from "node:test";
import { seededIds, seededRandom } from "../../platform/clock.ts";
import type { LoadAccount } from "./setup.ts";
import { outcomeOf, planTransfer } from "./transfers.ts";

const owner = { username: "u", accessToken: "jwt" };
const accounts: LoadAccount[] = Array.from({ length: 10 }, (_, i) => ({
  id: `id-${i}`,
  iban: `NL00OPEN000000000${i}`,
  token: `token-${i}`,
  owner,
}));
const options = { failShare: 0.3, amountMax: 100, excessiveAmount: 10n ** 15n, tokenShare: 0.5 };

test("the planned mix matches the failure share and each kind is shaped to fail for its reason", () => {
  const random = seededRandom(7);
  const ids = seededIds(seededRandom(8));
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i += 1) {
    const planned = planTransfer(random, ids, accounts, options);
    counts.set(planned.kind, (counts.get(planned.kind) ?? 0) + 1);
    const { body } = planned;
    const tokenOfFrom = accounts.find((a) => a.iban === body.from)?.token;
    switch (planned.kind) {
      case "valid":
        assert.notEqual(body.from, body.to);
        assert.ok(BigInt(body.amount) >= 1n && BigInt(body.amount) <= 100n);
        if (body.token !== undefined) assert.equal(body.token, tokenOfFrom);
        break;
      case "same_account":
        assert.equal(body.from, body.to);
        break;
      case "invalid_token":
        assert.notEqual(body.token, tokenOfFrom);
        break;
      case "insufficient_funds":
        assert.equal(body.amount, (10n ** 15n).toString());
        break;
    }
  }
  const failed = 10_000 - (counts.get("valid") ?? 0);
  assert.ok(Math.abs(failed / 10_000 - 0.3) < 0.03, `about 30% meant to fail, got ${failed}`);
  for (const kind of ["insufficient_funds", "invalid_token", "same_account"]) {
    assert.ok((counts.get(kind) ?? 0) > 800, `${kind} is represented`);
  }
});

test("outcome labels from HTTP answers", () => {
  assert.equal(outcomeOf(201, {}), "confirmed");
  assert.equal(outcomeOf(202, {}), "pending");
  assert.equal(outcomeOf(422, { code: "insufficient_funds" }), "failed:insufficient_funds");
  assert.equal(outcomeOf(404, { code: "not_found" }), "http_404:not_found");
  assert.equal(outcomeOf(500, "oops"), "http_500");
});
