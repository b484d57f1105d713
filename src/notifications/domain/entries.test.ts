import assert from "node:assert/strict";
import { test } from "node:test";
import { entriesOf, type Movement, type Parties } from "./entries.ts";

const movement: Movement = {
  commandId: "c1",
  transferId: "t1",
  kind: "transfer",
  phase: "single",
  debitIban: "NL01A",
  creditIban: "NL02B",
  amount: 2550n,
  asset: "EUR",
  description: "rent",
  atMs: 1_700_000_000_000,
};
const parties = { debitOwner: "alice", creditOwner: "bob" };
const idOf = (name: string) => `id(${name})`;
const summary = (m: Movement, p: Parties = parties) =>
  entriesOf(m, p, idOf).map((e) => [e.userId, e.kind, e.iban, e.counterparty, e.amount]);

test("a transfer: the sender hears sent, the receiver received, each with the other's IBAN", () => {
  assert.deepEqual(summary(movement), [
    ["alice", "sent", "NL01A", "NL02B", 2550n],
    ["bob", "received", "NL02B", "NL01A", 2550n],
  ]);
  const [sent] = entriesOf(movement, parties, idOf);
  assert.equal(sent?.id, "id(notification:c1:alice:sent)", "ids derive from command, user and kind");
  assert.deepEqual(
    [sent?.transferId, sent?.commandId, sent?.description, sent?.atMs],
    ["t1", "c1", "rent", movement.atMs],
  );
});

test("deposits and withdrawals reach only the customer; the bank's account is no counterparty", () => {
  const cash = { debitOwner: undefined, creditOwner: "bob" };
  assert.deepEqual(summary({ ...movement, kind: "deposit" }, cash), [["bob", "deposit", "NL02B", "", 2550n]]);
  const payout = { debitOwner: "alice", creditOwner: undefined };
  assert.deepEqual(summary({ ...movement, kind: "withdrawal" }, payout), [
    ["alice", "withdrawal", "NL01A", "", 2550n],
  ]);
  // A payout's reservation made and then released: only the release is news.
  assert.deepEqual(summary({ ...movement, kind: "withdrawal", phase: "pending" }, payout), []);
  assert.deepEqual(summary({ ...movement, kind: "withdrawal", phase: "voided" }, payout), [
    ["alice", "withdrawal_cancelled", "NL01A", "", 2550n],
  ]);
});

test("holds: placing and releasing tell the holder; posting is a transfer like any other", () => {
  assert.deepEqual(summary({ ...movement, phase: "pending" }), [
    ["alice", "hold_placed", "NL01A", "NL02B", 2550n],
  ]);
  for (const phase of ["voided", "expired"])
    assert.deepEqual(summary({ ...movement, phase }), [["alice", "hold_released", "NL01A", "NL02B", 2550n]]);
  assert.deepEqual(
    summary({ ...movement, phase: "posted", amount: 100n }).map(([user, kind, , , amount]) => [
      user,
      kind,
      amount,
    ]),
    [
      ["alice", "sent", 100n],
      ["bob", "received", 100n],
    ],
  );
});

test("a transfer between one user's own accounts gives both entries; system-only movements none", () => {
  assert.deepEqual(
    summary(movement, { debitOwner: "alice", creditOwner: "alice" }).map(([u, k]) => [u, k]),
    [
      ["alice", "sent"],
      ["alice", "received"],
    ],
  );
  assert.deepEqual(summary(movement, { debitOwner: undefined, creditOwner: undefined }), []);
});
