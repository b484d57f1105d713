/**
 * The ledger obeys screening's `hold` verdict: the transfer is booked as a pending transfer (funds
 * reserved, nothing posted) for the review's timeout, marked with the review; only that review's
 * post or void, or expiry, completes it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { tokenHashMatches } from "../token-hash.ts";
import { decide, evolve, WorkingSet } from "./decide.ts";
import type {
  AccountState,
  LedgerCommand,
  LedgerEvent,
  MoneyTransferConfirmed,
  ScreeningVerdict,
  TransferMoney,
} from "./types.ts";

const t0 = 1_700_000_000_000;
const reviewTimeoutMs = 86_400_000;

function account(id: string, balance: bigint): AccountState {
  return {
    ...{ id, iban: `NL00OPEN${id}`, ownerId: `owner-${id}`, asset: "EUR", balance },
    ...{ debitsPending: 0n, creditsPending: 0n, overdraftLimit: 0n, system: false, tokenHash: `hash-${id}` },
  };
}

function ledger() {
  const state = new WorkingSet();
  state.load(account("A", 1_000n));
  state.load(account("B", 0n));
  const run = (command: LedgerCommand, screening = new Map<string, ScreeningVerdict>(), nowMs = t0) => {
    const events = decide(command, state, {
      nowMs,
      tokenHashMatches,
      ibanForNewAccount: () => "unused",
      screening,
    });
    for (const event of events) evolve(state, event);
    return events;
  };
  return { state, run };
}

const transfer = (commandId: string, extra: Partial<TransferMoney> = {}): TransferMoney => ({
  ...{ type: "TransferMoney", commandId, fingerprint: "fp", kind: "transfer" },
  ...{ debitIban: "NL00OPENA", creditIban: "NL00OPENB", amount: 300n, asset: "EUR", description: "rent" },
  authorization: { kind: "owner", actorId: "owner-A" },
  ...extra,
});

const held = (reviewId: string) =>
  new Map<string, ScreeningVerdict>([[reviewId, { decision: "hold", reviewId, timeoutMs: reviewTimeoutMs }]]);

function only(events: LedgerEvent[]): MoneyTransferConfirmed {
  assert.equal(
    events.length,
    1,
    JSON.stringify(events, (_, v) => (typeof v === "bigint" ? String(v) : v)),
  );
  const [event] = events;
  assert.equal(event?.type, "MoneyTransferConfirmed");
  return event as MoneyTransferConfirmed;
}

describe("a transfer screening holds for review", () => {
  test("is booked pending for the review's timeout: reserved, nothing posted, no balance change", () => {
    const { state, run } = ledger();
    const event = only(run(transfer("c1"), held("c1")));
    assert.equal(event.phase, "pending");
    assert.equal(event.reviewId, "c1");
    assert.equal(event.expiresAtMs, t0 + reviewTimeoutMs);
    assert.equal(state.accountById("A")?.balance, 1_000n);
    assert.equal(state.accountById("A")?.debitsPending, 300n);
    assert.equal(state.accountById("B")?.creditsPending, 300n);
    assert.equal(state.pendingTransfer("c1")?.reviewId, "c1");
  });

  test("a client's own hold held for review takes the review's timeout and mark", () => {
    const { run } = ledger();
    const event = only(run(transfer("c2", { pendingTimeoutMs: 60_000 }), held("c2")));
    assert.equal(event.expiresAtMs, t0 + reviewTimeoutMs);
    assert.equal(event.reviewId, "c2");
  });

  test("still fails what it would fail anyway (insufficient funds), reserving nothing", () => {
    const { state, run } = ledger();
    const [event] = run(transfer("c3", { amount: 5_000n }), held("c3"));
    assert.equal(event?.type === "MoneyTransferFailed" && event.reason, "insufficient_funds");
    assert.equal(state.accountById("A")?.debitsPending, 0n);
  });

  test("only its review posts it; the owner's or a platform post without the review is under_review", () => {
    const { state, run } = ledger();
    run(transfer("c4"), held("c4"));
    const owner = { kind: "owner", actorId: "owner-A" } as const;
    const byOwner = run({
      type: "PostPendingTransfer",
      commandId: "p1",
      fingerprint: "f",
      pendingId: "c4",
      authorization: owner,
    });
    assert.equal(byOwner[0]?.type === "MoneyTransferFailed" && byOwner[0].reason, "under_review");
    const byPlatform = run({
      type: "PostPendingTransfer",
      commandId: "p2",
      fingerprint: "f",
      pendingId: "c4",
    });
    assert.equal(byPlatform[0]?.type === "MoneyTransferFailed" && byPlatform[0].reason, "under_review");
    const voidByOwner = run({
      type: "VoidPendingTransfer",
      commandId: "v1",
      fingerprint: "f",
      pendingId: "c4",
      cause: "voided",
      authorization: owner,
    });
    assert.equal(voidByOwner[0]?.type === "MoneyTransferFailed" && voidByOwner[0].reason, "under_review");
    const approved = run({
      type: "PostPendingTransfer",
      commandId: "p3",
      fingerprint: "f",
      pendingId: "c4",
      reviewId: "c4",
    });
    assert.equal(approved[0]?.type === "MoneyTransferConfirmed" && approved[0].phase, "posted");
    assert.equal(state.accountById("A")?.balance, 700n);
    assert.equal(state.accountById("B")?.balance, 300n);
    assert.equal(state.accountById("A")?.debitsPending, 0n);
  });

  test("its review's rejection voids it; the sweeper expires it after the timeout", () => {
    const { state, run } = ledger();
    run(transfer("c5"), held("c5"));
    const rejected = run({
      type: "VoidPendingTransfer",
      commandId: "v2",
      fingerprint: "f",
      pendingId: "c5",
      cause: "voided",
      reviewId: "c5",
    });
    assert.equal(rejected[0]?.type === "MoneyTransferConfirmed" && rejected[0].phase, "voided");
    run(transfer("c6"), held("c6"));
    const later = t0 + reviewTimeoutMs;
    const tooLate = run(
      { type: "PostPendingTransfer", commandId: "p4", fingerprint: "f", pendingId: "c6", reviewId: "c6" },
      new Map(),
      later,
    );
    assert.equal(tooLate[0]?.type === "MoneyTransferFailed" && tooLate[0].reason, "pending_transfer_expired");
    const swept = run(
      { type: "VoidPendingTransfer", commandId: "v3", fingerprint: "f", pendingId: "c6", cause: "expired" },
      new Map(),
      later,
    );
    assert.equal(swept[0]?.type === "MoneyTransferConfirmed" && swept[0].phase, "expired");
    assert.equal(state.accountById("A")?.balance, 1_000n);
    assert.equal(state.accountById("A")?.debitsPending, 0n);
  });

  test("an ordinary hold (no review) is still posted by its owner", () => {
    const { run } = ledger();
    run(transfer("c7", { pendingTimeoutMs: 60_000 }));
    const owner = { kind: "owner", actorId: "owner-A" } as const;
    const posted = run({
      type: "PostPendingTransfer",
      commandId: "p5",
      fingerprint: "f",
      pendingId: "c7",
      authorization: owner,
    });
    assert.equal(posted[0]?.type === "MoneyTransferConfirmed" && posted[0].phase, "posted");
  });
});
