/**
 * applyCommandBatch against real PostgreSQL with the real codecs: idempotency (redelivery, duplicates
 * and conflicts inside a batch), batch-local state (create then transfer), two-phase transfers, the
 * transactional outbox, the overdraft constraint as a last line of defence, and concurrent batches.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  accountByIban,
  applyDeps,
  balanceOf,
  createAccountCommand,
  envelope,
  type LedgerCodecs,
  ledgerCodecs,
  ledgerSnapshot,
  ledgerViolations,
  nextIbans,
  outboxRows,
  postCommand,
  transferCommand,
  voidCommand,
} from "../../test/support/ledger-fixtures.ts";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import { type ApplyBatchDeps, applyCommandBatch } from "./apply-batch.ts";
import { amountMax } from "./domain/money.ts";
import type { LedgerCommand } from "./domain/types.ts";

const ids = seededIds(seededRandom(20_240_601));
const clock = manualClock();

let db: TestDatabase;
let codecs: LedgerCodecs;
let deps: ApplyBatchDeps;

before(async () => {
  db = await startTestDatabase();
  codecs = await ledgerCodecs(db.pool);
  deps = applyDeps(db.pool, codecs, () => clock.nowMs());
});

after(async () => {
  await db?.close();
});

const apply = (commands: readonly LedgerCommand[]) =>
  applyCommandBatch(
    deps,
    commands.map((c) => envelope(c)),
  );

/** A treasury (system) and customer accounts; customers funded from the treasury. Returns IBANs. */
async function world(funding: readonly bigint[], options: { overdraftLimits?: readonly bigint[] } = {}) {
  const treasury = createAccountCommand(ids, { ownerId: "bank", system: true });
  const customers = funding.map((_, i) =>
    createAccountCommand(ids, {
      ownerId: `customer-${i}`,
      overdraftLimit: options.overdraftLimits?.[i] ?? 0n,
    }),
  );
  const created = await apply([treasury, ...customers]);
  assert.ok(created.outcomes.every((o) => o.status === "CONFIRMED"));
  const [treasuryIban, ...ibans] = created.outcomes.map((o) => o.result.iban as string);
  assert.ok(treasuryIban);
  const funded = await apply(
    funding
      .map((amount, i) => ({ amount, to: ibans[i] as string }))
      .filter(({ amount }) => amount > 0n)
      .map(({ amount, to }) => transferCommand(ids, { from: treasuryIban, to, amount })),
  );
  assert.ok(funded.outcomes.every((o) => o.status === "CONFIRMED"));
  return { treasury: treasuryIban, customers: ibans, owners: customers.map((c) => c.ownerId) };
}

async function assertConsistent(): Promise<void> {
  assert.deepEqual(await ledgerViolations(db.pool), {});
}

describe("idempotency", () => {
  test("a batch applies once; its redelivery changes nothing and answers the same outcomes", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const batch = [
      transferCommand(ids, { from: a, to: b, amount: 300n }),
      transferCommand(ids, { from: a, to: b, amount: 5_000n }),
      transferCommand(ids, { from: b, to: a, amount: 100n }),
    ];
    const first = await apply(batch);
    assert.equal(first.appliedCount, 3);
    assert.equal(first.duplicateCount, 0);
    assert.deepEqual(
      first.outcomes.map((o) => [o.status, o.reason]),
      [
        ["CONFIRMED", undefined],
        ["FAILED", "insufficient_funds"],
        ["CONFIRMED", undefined],
      ],
    );
    const before = await ledgerSnapshot(db.pool);

    clock.advance(1_000);
    const again = await apply(batch);
    assert.deepEqual(again.outcomes, first.outcomes);
    assert.equal(again.appliedCount, 0);
    assert.equal(again.duplicateCount, 3);
    assert.deepEqual(await ledgerSnapshot(db.pool), before);
    assert.equal(await balanceOf(db.pool, a), 800n);
    assert.equal(await balanceOf(db.pool, b), 200n);
    await assertConsistent();
  });

  test("duplicates inside one batch are applied once and all answer the first outcome", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const t = transferCommand(ids, { from: a, to: b, amount: 400n });
    const result = await apply([t, t, t]);
    assert.equal(result.appliedCount, 1);
    assert.equal(result.duplicateCount, 2);
    assert.equal(result.outcomes[0]?.status, "CONFIRMED");
    assert.deepEqual(result.outcomes[1], result.outcomes[0]);
    assert.deepEqual(result.outcomes[2], result.outcomes[0]);
    assert.equal(await balanceOf(db.pool, a), 600n);
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM ledger_entries WHERE command_id = $1",
      [t.commandId],
    );
    assert.equal(rows[0].n, 2);
    await assertConsistent();
  });

  test("same id with another payload keeps the first outcome, across batches and inside one", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const original = transferCommand(ids, { from: a, to: b, amount: 100n });
    const impostor = transferCommand(ids, { from: a, to: b, amount: 900n, commandId: original.commandId });
    assert.notEqual(impostor.fingerprint, original.fingerprint);

    const first = await apply([original]);
    const later = await apply([impostor]);
    assert.deepEqual(later.outcomes[0], first.outcomes[0]);
    assert.equal(
      later.outcomes[0]?.fingerprint,
      original.fingerprint,
      "the caller can tell it is a conflict",
    );
    assert.equal(await balanceOf(db.pool, a), 900n);

    const sameBatch = transferCommand(ids, { from: a, to: b, amount: 50n });
    const sameBatchImpostor = transferCommand(ids, {
      from: a,
      to: b,
      amount: 700n,
      commandId: sameBatch.commandId,
    });
    const mixed = await apply([sameBatch, sameBatchImpostor]);
    assert.equal(mixed.appliedCount, 1);
    assert.deepEqual(mixed.outcomes[1], mixed.outcomes[0]);
    assert.equal(mixed.outcomes[0]?.fingerprint, sameBatch.fingerprint);
    assert.equal(await balanceOf(db.pool, a), 850n);
    await assertConsistent();
  });

  test("the same batch applied by two handlers at once moves money once (a zombie loses)", async () => {
    const w = await world([1_000n, 1_000n]);
    const [a, b] = w.customers as [string, string];
    const batch = [
      transferCommand(ids, { from: a, to: b, amount: 250n }),
      transferCommand(ids, { from: b, to: a, amount: 2_000n }),
    ];
    const settled = await Promise.allSettled([apply(batch), apply(batch)]);
    assert.ok(
      settled.some((s) => s.status === "fulfilled"),
      "at least one of the two handlers commits",
    );
    // The loser (if any) rolls back; its redelivery answers what the winner decided.
    const replay = await apply(batch);
    for (const s of settled)
      if (s.status === "fulfilled") assert.deepEqual(s.value.outcomes, replay.outcomes);
    assert.equal(await balanceOf(db.pool, a), 750n);
    assert.equal(await balanceOf(db.pool, b), 1_250n);
    await assertConsistent();
  });
});

describe("batch-local state", () => {
  test("an account created earlier in the batch can be funded and spend in the same batch", async () => {
    const w = await world([0n]);
    const [existing] = w.customers as [string];
    const owner = "owner-of-c";
    const create = createAccountCommand(ids, { ownerId: owner });
    const [predicted] = (await nextIbans(db.pool, 1)) as [string];
    const fund = transferCommand(ids, { from: w.treasury, to: predicted, amount: 500n });
    const spend = transferCommand(ids, {
      from: predicted,
      to: existing,
      amount: 200n,
      authorization: { kind: "owner", actorId: owner },
    });
    const overspend = transferCommand(ids, {
      from: predicted,
      to: existing,
      amount: 301n,
      authorization: { kind: "owner", actorId: owner },
    });
    const result = await apply([create, fund, spend, overspend]);
    assert.deepEqual(
      result.outcomes.map((o) => o.reason ?? o.status),
      ["CONFIRMED", "CONFIRMED", "CONFIRMED", "insufficient_funds"],
    );
    assert.equal(result.outcomes[0]?.result.iban, predicted);
    assert.equal(await balanceOf(db.pool, predicted), 300n);
    assert.equal(await balanceOf(db.pool, existing), 200n);
    await assertConsistent();
  });

  test("authorisation: owner, stranger, right and wrong token, operator", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const { rows } = await db.pool.query("SELECT token_hash FROM ledger_accounts WHERE iban = $1", [a]);
    const tokenHash = rows[0].token_hash as string;
    const result = await apply([
      transferCommand(ids, {
        from: a,
        to: b,
        amount: 1n,
        authorization: { kind: "owner", actorId: "nobody" },
      }),
      transferCommand(ids, {
        from: a,
        to: b,
        amount: 1n,
        authorization: { kind: "token", actorId: "nobody", tokenHash: "wrong" },
      }),
      transferCommand(ids, {
        from: a,
        to: b,
        amount: 2n,
        authorization: { kind: "token", actorId: "nobody", tokenHash },
      }),
      transferCommand(ids, {
        from: a,
        to: b,
        amount: 3n,
        authorization: { kind: "owner", actorId: "customer-0" },
      }),
      transferCommand(ids, { from: a, to: a, amount: 1n }),
      transferCommand(ids, { from: a, to: "NL91OPEN9999999999", amount: 1n }),
      transferCommand(ids, { from: a, to: b, amount: 1n, asset: "USD" }),
    ]);
    assert.deepEqual(
      result.outcomes.map((o) => o.reason ?? o.status),
      [
        "unknown_account",
        // A non-owner's wrong token answers like a missing account: existence does not leak.
        "unknown_account",
        "CONFIRMED",
        "CONFIRMED",
        "same_account",
        "unknown_account",
        "asset_mismatch",
      ],
    );
    assert.equal(await balanceOf(db.pool, b), 5n);
    await assertConsistent();
  });
});

describe("two-phase transfers", () => {
  test("pending reserves, post moves the money once", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const pending = transferCommand(ids, { from: a, to: b, amount: 600n, pendingTimeoutMs: 60_000 });
    assert.equal((await apply([pending])).outcomes[0]?.result.phase, "pending");
    const reserved = await accountByIban(db.pool, a);
    assert.equal(reserved.balance, 1_000n);
    assert.equal(reserved.debitsPending, 600n);
    assert.equal((await accountByIban(db.pool, b)).creditsPending, 600n);
    // Reserved money is not available to spend.
    const blocked = await apply([transferCommand(ids, { from: a, to: b, amount: 401n })]);
    assert.equal(blocked.outcomes[0]?.reason, "insufficient_funds");

    const post = await apply([postCommand(ids, pending.commandId)]);
    assert.equal(post.outcomes[0]?.status, "CONFIRMED");
    assert.equal(post.outcomes[0]?.result.phase, "posted");
    assert.deepEqual(
      { ...(await accountByIban(db.pool, a)), id: "" },
      { id: "", iban: a, balance: 400n, debitsPending: 0n, creditsPending: 0n },
    );
    assert.equal(await balanceOf(db.pool, b), 600n);

    const again = await apply([
      postCommand(ids, pending.commandId),
      voidCommand(ids, pending.commandId, "voided"),
    ]);
    assert.deepEqual(
      again.outcomes.map((o) => o.reason),
      ["pending_transfer_already_posted", "pending_transfer_already_posted"],
    );
    assert.equal(await balanceOf(db.pool, b), 600n);
    await assertConsistent();
  });

  test("void releases the reservation without moving money", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const pending = transferCommand(ids, { from: a, to: b, amount: 700n, pendingTimeoutMs: 60_000 });
    const result = await apply([
      pending,
      voidCommand(ids, pending.commandId, "voided"),
      postCommand(ids, pending.commandId),
    ]);
    assert.deepEqual(
      result.outcomes.map((o) => o.result.phase ?? o.reason),
      ["pending", "voided", "pending_transfer_already_voided"],
    );
    assert.deepEqual(
      { ...(await accountByIban(db.pool, a)), id: "" },
      { id: "", iban: a, balance: 1_000n, debitsPending: 0n, creditsPending: 0n },
    );
    const { rows } = await db.pool.query("SELECT phase FROM ledger_transfers WHERE id = $1", [
      pending.commandId,
    ]);
    assert.equal(rows[0].phase, "voided");
    await assertConsistent();
  });

  test("after the timeout a post fails and the sweeper's void marks it expired", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const pending = transferCommand(ids, { from: a, to: b, amount: 500n, pendingTimeoutMs: 1_000 });
    await apply([pending]);
    clock.advance(1_000);
    const late = await apply([postCommand(ids, pending.commandId)]);
    assert.equal(late.outcomes[0]?.reason, "pending_transfer_expired");
    assert.equal((await accountByIban(db.pool, a)).debitsPending, 500n, "still reserved until voided");

    const expire = await apply([voidCommand(ids, pending.commandId, "expired")]);
    assert.equal(expire.outcomes[0]?.result.phase, "expired");
    assert.deepEqual(
      { ...(await accountByIban(db.pool, a)), id: "" },
      { id: "", iban: a, balance: 1_000n, debitsPending: 0n, creditsPending: 0n },
    );
    const { rows } = await db.pool.query("SELECT phase FROM ledger_transfers WHERE id = $1", [
      pending.commandId,
    ]);
    assert.equal(rows[0].phase, "expired");
    const afterwards = await apply([voidCommand(ids, pending.commandId, "voided")]);
    assert.equal(afterwards.outcomes[0]?.reason, "pending_transfer_expired");
    await assertConsistent();
  });

  test("a customer's void after the timeout also counts as expiry", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    const pending = transferCommand(ids, { from: a, to: b, amount: 500n, pendingTimeoutMs: 1_000 });
    await apply([pending]);
    clock.advance(5_000);
    const result = await apply([voidCommand(ids, pending.commandId, "voided")]);
    assert.equal(result.outcomes[0]?.result.phase, "expired");
    await assertConsistent();
  });
});

describe("transactional outbox", () => {
  test("one outbox row per batch holding exactly each outcome and each BalanceChanged", async () => {
    const w = await world([1_000n, 0n]);
    const [a, b] = w.customers as [string, string];
    await db.pool.query("DELETE FROM ledger_outbox");
    const ok = transferCommand(ids, { from: a, to: b, amount: 250n, description: "rent 🏠 'x'; DROP TABLE" });
    const failed = transferCommand(ids, { from: b, to: a, amount: 10_000n });
    const pending = transferCommand(ids, { from: a, to: b, amount: 10n, pendingTimeoutMs: 60_000 });
    await apply([ok, failed, pending]);

    const rows = await outboxRows(db.pool, codecs);
    assert.equal(rows.length, 1);
    const records = rows[0] ?? [];
    const outcomes = records.filter((r) => r.kind === "outcome");
    const changes = records.filter((r) => r.kind === "balanceChanged");
    assert.deepEqual(
      outcomes.map((r) => [r.key, r.value.commandId, r.value.outcome.type]),
      [
        [ok.commandId, ok.commandId, "MoneyTransferConfirmed"],
        [failed.commandId, failed.commandId, "MoneyTransferFailed"],
        [pending.commandId, pending.commandId, "MoneyTransferConfirmed"],
      ],
    );
    const [okOutcome, failedOutcome] = outcomes.map((r) => r.value);
    assert.equal(okOutcome?.fingerprint, ok.fingerprint);
    assert.deepEqual(failedOutcome?.outcome, { type: "MoneyTransferFailed", reason: "insufficient_funds" });
    // Pending reservations post nothing, so only `ok` changes balances.
    assert.deepEqual(
      changes.map((r) => (r.kind === "balanceChanged" ? [r.key, r.value.changedBy, r.value.newBalance] : [])),
      [
        [a, -250n, 750n],
        [b, 250n, 250n],
      ],
    );
    for (const r of changes) {
      assert.equal(r.kind === "balanceChanged" && r.value.description, ok.description);
      assert.equal(r.kind === "balanceChanged" && r.value.commandId, ok.commandId);
    }

    // Redelivery writes no new outbox row.
    await apply([ok, failed, pending]);
    assert.equal((await outboxRows(db.pool, codecs)).length, 1);
  });

  test("amounts up to 2^63-1 survive PostgreSQL and the Avro codecs", async () => {
    const w = await world([0n]);
    const [a] = w.customers as [string];
    await db.pool.query("DELETE FROM ledger_outbox");
    const huge = transferCommand(ids, { from: w.treasury, to: a, amount: amountMax });
    const overflow = transferCommand(ids, { from: w.treasury, to: a, amount: 1n });
    const result = await apply([huge, overflow]);
    assert.deepEqual(
      result.outcomes.map((o) => o.reason ?? o.status),
      ["CONFIRMED", "balance_overflow"],
    );
    assert.equal(await balanceOf(db.pool, a), amountMax);
    const changes = (await outboxRows(db.pool, codecs)).flat().filter((r) => r.kind === "balanceChanged");
    assert.deepEqual(
      changes.map((r) => r.kind === "balanceChanged" && r.value.newBalance),
      [-amountMax, amountMax],
    );
    // Give the money back so the other tests' treasury keeps room.
    await apply([transferCommand(ids, { from: a, to: w.treasury, amount: amountMax })]);
    await assertConsistent();
  });
});

describe("overdraft", () => {
  test("the database constraint exists and would refuse an overdrawn customer account", async () => {
    const w = await world([10n]);
    const [a] = w.customers as [string];
    await assert.rejects(
      db.pool.query("UPDATE ledger_accounts SET balance = -1 WHERE iban = $1", [a]),
      (error: { constraint?: string }) => error.constraint === "no_unauthorised_overdraft",
    );
  });

  test("random spending never reaches the constraint: the decider refuses first", async () => {
    const random = seededRandom(7);
    const limits = [0n, 0n, 250n, 1_000n];
    const w = await world([500n, 0n, 100n, 0n], { overdraftLimits: limits });
    const accounts = w.customers;
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 25 }, () => {
        const from = Math.floor(random.next() * accounts.length);
        const to = (from + 1 + Math.floor(random.next() * (accounts.length - 1))) % accounts.length;
        const pending = random.next() < 0.2 ? { pendingTimeoutMs: 10_000 } : {};
        return transferCommand(ids, {
          from: accounts[from] as string,
          to: accounts[to] as string,
          amount: BigInt(1 + Math.floor(random.next() * 600)),
          ...pending,
        });
      });
      const result = await apply(batch);
      assert.equal(result.appliedCount, batch.length);
      clock.advance(1_000);
    }
    for (const [i, iban] of accounts.entries()) {
      const account = await accountByIban(db.pool, iban);
      assert.ok(account.balance - account.debitsPending >= -(limits[i] ?? 0n), `${iban} within its limit`);
    }
    await assertConsistent();
  });
});

describe("concurrency", () => {
  test("parallel batches on overlapping accounts (A→B and B→A) finish without deadlock and conserve money", async () => {
    const w = await world([5_000n, 5_000n, 5_000n]);
    const [a, b, c] = w.customers as [string, string, string];
    const random = seededRandom(99);
    const amount = () => BigInt(1 + Math.floor(random.next() * 80));
    const forward = () =>
      Array.from({ length: 150 }, (_, i) =>
        transferCommand(ids, { from: i % 3 === 2 ? c : a, to: b, amount: amount() }),
      );
    const backward = () =>
      Array.from({ length: 150 }, (_, i) =>
        transferCommand(ids, { from: b, to: i % 3 === 2 ? c : a, amount: amount() }),
      );
    const total = async () =>
      (await balanceOf(db.pool, a)) + (await balanceOf(db.pool, b)) + (await balanceOf(db.pool, c));
    const startTotal = await total();
    let applied = 0;
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all([
        apply(forward()),
        apply(backward()),
        apply([...forward().slice(0, 50), ...backward().slice(0, 50)]),
      ]);
      applied += results.reduce((sum, r) => sum + r.appliedCount, 0);
    }
    assert.equal(applied, 10 * 400);
    assert.equal(await total(), startTotal);
    await assertConsistent();
  });
});
