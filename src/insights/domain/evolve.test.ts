import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  evolveBranches,
  evolveInteractions,
  foldBranches,
  foldInteractions,
  type Movement,
  movedMoney,
} from "./evolve.ts";

const utrecht = { id: "b-utrecht", key: "utrecht", name: "Utrecht" };

function movement(overrides: Partial<Movement> = {}): Movement {
  return {
    commandId: "c1",
    transferId: "c1",
    kind: "transfer",
    phase: "single",
    debitIban: "NL01",
    creditIban: "NL02",
    debitClient: "alice",
    creditClient: "bob",
    amount: 250n,
    asset: "EUR",
    description: "",
    branch: undefined,
    atMs: 1_000,
    ...overrides,
  };
}

describe("interactions", () => {
  test("a transfer between two clients is sent for the payer and received for the payee", () => {
    const change = evolveInteractions(movement());
    assert.deepEqual(
      change.interactions.map((d) => [
        d.clientId,
        d.counterpartyId,
        d.counterpartyIban,
        d.sentTotal,
        d.receivedTotal,
      ]),
      [
        ["alice", "bob", "NL02", 250n, 0n],
        ["bob", "alice", "NL01", 0n, 250n],
      ],
    );
    assert.deepEqual(
      change.transactions.map((t) => [t.clientId, t.iban, t.amount]),
      [
        ["alice", "NL01", -250n],
        ["bob", "NL02", 250n],
      ],
    );
  });

  test("only money that moved counts: a hold placed, voided or expired is nothing, a posted one is", () => {
    for (const phase of ["pending", "voided", "expired"])
      assert.deepEqual(
        evolveInteractions(movement({ phase })),
        { interactions: [], transactions: [] },
        phase,
      );
    assert.equal(movedMoney(movement({ phase: "posted" })), true);
    assert.equal(evolveInteractions(movement({ phase: "posted" })).interactions.length, 2);
  });

  test("a system account on one side is a transaction of the client, not an interaction", () => {
    const change = evolveInteractions(movement({ creditClient: undefined }));
    assert.deepEqual(change.interactions, []);
    assert.equal(change.transactions.length, 1);
    const own = evolveInteractions(movement({ creditClient: "alice" }));
    assert.deepEqual(own.interactions, []);
    assert.equal(own.transactions.length, 2);
  });

  test("a batch folds into one row per pair and asset, exact beyond 2^63 and keeping the latest IBAN", () => {
    const huge = 9_223_372_036_854_775_807n;
    const folded = foldInteractions([
      evolveInteractions(movement({ amount: huge, atMs: 5 })),
      evolveInteractions(movement({ amount: huge, atMs: 9, creditIban: "NL09" })),
      evolveInteractions(movement({ amount: 1n, atMs: 7, asset: "USD" })),
    ]);
    const alice = folded.interactions.filter((d) => d.clientId === "alice");
    assert.deepEqual(
      alice.map((d) => [d.asset, d.sentCount, d.sentTotal, d.firstAtMs, d.lastAtMs, d.counterpartyIban]),
      [
        ["EUR", 2n, huge * 2n, 5, 9, "NL09"],
        ["USD", 1n, 1n, 7, 7, "NL02"],
      ],
    );
    assert.equal(folded.transactions.length, 6);
  });
});

describe("branches", () => {
  test("a deposit counts for the credited client, a withdrawal for the debited one", () => {
    const deposit = evolveBranches(
      movement({ kind: "deposit", debitClient: undefined, creditClient: "alice", branch: utrecht }),
    );
    assert.deepEqual(deposit.branches, [{ ...utrecht, firstAtMs: 1_000 }]);
    assert.deepEqual(
      deposit.clientBranches.map((d) => [d.clientId, d.deposits, d.withdrawals]),
      [["alice", 1n, 0n]],
    );
    assert.deepEqual(
      deposit.operations.map((o) => [o.kind, o.iban]),
      [["deposit", "NL02"]],
    );
    const withdrawal = evolveBranches(
      movement({ kind: "withdrawal", debitClient: "alice", creditClient: undefined, branch: utrecht }),
    );
    assert.deepEqual(
      withdrawal.volumes.map((v) => [v.withdrawals, v.withdrawn]),
      [[1n, 250n]],
    );
    assert.deepEqual(
      withdrawal.operations.map((o) => [o.kind, o.iban]),
      [["withdrawal", "NL01"]],
    );
  });

  test("transfers and operations without a branch (written before branches were carried) change nothing", () => {
    assert.deepEqual(evolveBranches(movement()).branches, []);
    assert.deepEqual(evolveBranches(movement({ kind: "deposit" })).operations, []);
  });

  test("a batch folds per branch and asset; the earliest sighting names the branch", () => {
    const at = (atMs: number, name: string, amount: bigint) =>
      evolveBranches(
        movement({ kind: "deposit", creditClient: "alice", branch: { ...utrecht, name }, atMs, amount }),
      );
    const folded = foldBranches([at(9, "UTRECHT", 5n), at(3, "Utrecht", 7n)]);
    assert.deepEqual(
      folded.branches.map((b) => [b.name, b.firstAtMs]),
      [["Utrecht", 3]],
    );
    assert.deepEqual(
      folded.volumes.map((v) => [v.deposits, v.deposited]),
      [[2n, 12n]],
    );
    assert.deepEqual(
      folded.clientBranches.map((d) => [d.deposits, d.firstAtMs, d.lastAtMs]),
      [[2n, 3, 9]],
    );
  });
});
