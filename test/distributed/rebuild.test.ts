import assert from "node:assert/strict";
import { test } from "node:test";
import { orderViolation, rebuildBalances } from "./rebuild.ts";

test("rebuild: the last event of an IBAN carries its balance", () => {
  const r = rebuildBalances([
    { commandId: "c1", iban: "A", newBalance: 100n },
    { commandId: "c1", iban: "B", newBalance: -100n },
    { commandId: "c2", iban: "A", newBalance: 70n },
  ]);
  assert.deepEqual(
    [...r.balances],
    [
      ["A", 70n],
      ["B", -100n],
    ],
  );
  assert.deepEqual(r.commandOrder.get("A"), ["c1", "c2"]);
  assert.equal(r.duplicates, 0);
});

test("rebuild: a stale republished event after newer ones does not roll the balance back", () => {
  const r = rebuildBalances([
    { commandId: "c1", iban: "A", newBalance: 100n },
    { commandId: "c2", iban: "A", newBalance: 70n },
    { commandId: "c1", iban: "A", newBalance: 100n },
  ]);
  assert.equal(r.balances.get("A"), 70n);
  assert.equal(r.duplicates, 1);
  assert.deepEqual(r.commandOrder.get("A"), ["c1", "c2"]);
});

test("order: applied commands of one client must follow its issue order; others are ignored", () => {
  assert.equal(orderViolation(["a", "b", "c"], ["x", "a", "y", "c"]), undefined);
  assert.deepEqual(orderViolation(["a", "b", "c"], ["b", "a", "c"]), {
    expected: ["a", "b", "c"],
    actual: ["b", "a", "c"],
  });
});
