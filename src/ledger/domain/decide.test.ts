import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvariantViolation } from "../../platform/errors.ts";
import { tokenHashMatches } from "../token-hash.ts";
import { available, decide, evolve, WorkingSet } from "./decide.ts";
import { ibanFor } from "./iban.ts";
import { amountMax } from "./money.ts";
import type {
  AccountState,
  Authorization,
  BalanceChanged,
  LedgerCommand,
  LedgerEvent,
  MoneyTransferConfirmed,
  MoneyTransferFailed,
  PostPendingTransfer,
  TransferMoney,
  VoidPendingTransfer,
} from "./types.ts";

const t0 = 1_700_000_000_000;
const ibanOf = (serial: number): string => ibanFor({ country: "NL", bankCode: "OPEN" }, BigInt(serial));

/** A small ledger as the handler drives it: decide against the working set, then evolve every event. */
class Ledger {
  readonly state = new WorkingSet();
  nowMs = t0;
  private nextSerial = 1;
  ibansAllocated = 0;

  run(command: LedgerCommand): LedgerEvent[] {
    const events = decide(command, this.state, {
      nowMs: this.nowMs,
      tokenHashMatches,
      ibanForNewAccount: () => {
        this.ibansAllocated += 1;
        return ibanOf(this.nextSerial++);
      },
    });
    for (const event of events) evolve(this.state, event);
    return events;
  }

  /** Loads an account directly, as the handler loads one from the database. */
  seed(overrides: Partial<AccountState> & { id: string }): AccountState {
    const account: AccountState = {
      iban: ibanOf(this.nextSerial++),
      ownerId: `owner-of-${overrides.id}`,
      asset: "EUR",
      balance: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
      overdraftLimit: 0n,
      system: false,
      tokenHash: `hash-of-${overrides.id}`,
      ...overrides,
    };
    this.state.load(account);
    return account;
  }

  account(id: string): AccountState {
    const account = this.state.accountById(id);
    assert.ok(account, `account ${id} exists`);
    return account;
  }
}

let commandCounter = 0;
const nextCommandId = (): string => `cmd-${++commandCounter}`;

const operator: Authorization = { kind: "operator", actorId: "teller-1" };

function transfer(
  from: AccountState,
  to: AccountState,
  amount: bigint,
  extra: Partial<TransferMoney> = {},
): TransferMoney {
  return {
    type: "TransferMoney",
    commandId: nextCommandId(),
    fingerprint: "fp",
    kind: "transfer",
    debitIban: from.iban,
    creditIban: to.iban,
    amount,
    asset: from.asset,
    description: "rent",
    authorization: { kind: "owner", actorId: from.ownerId },
    ...extra,
  };
}

const post = (pendingId: string): PostPendingTransfer => ({
  type: "PostPendingTransfer",
  commandId: nextCommandId(),
  fingerprint: "fp",
  pendingId,
});

const voidPending = (pendingId: string, cause: "voided" | "expired" = "voided"): VoidPendingTransfer => ({
  type: "VoidPendingTransfer",
  commandId: nextCommandId(),
  fingerprint: "fp",
  pendingId,
  cause,
});

function assertFailed(events: LedgerEvent[], reason: string, commandId?: string): void {
  assert.equal(events.length, 1, `exactly one event, got ${events.map((e) => e.type).join(", ")}`);
  const event = events[0] as MoneyTransferFailed;
  assert.equal(event.type, "MoneyTransferFailed");
  assert.equal(event.reason, reason);
  if (commandId !== undefined) assert.equal(event.commandId, commandId);
}

function confirmed(events: LedgerEvent[]): MoneyTransferConfirmed {
  const event = events[0];
  assert.equal(
    event?.type,
    "MoneyTransferConfirmed",
    `expected a confirmation, got ${JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`,
  );
  return event as MoneyTransferConfirmed;
}

function balanceChanges(events: LedgerEvent[]): BalanceChanged[] {
  return events.filter((event): event is BalanceChanged => event.type === "BalanceChanged");
}

/** Runs a rejected command and checks it changed nothing. */
function assertRejectedWithoutEffect(ledger: Ledger, command: LedgerCommand, reason: string): void {
  const before = structuredClone([...ledger.state.accounts.entries()]);
  const pendingsBefore = structuredClone([...ledger.state.pendings.entries()]);
  const changedBefore = ledger.state.changedAccounts.size;
  const events = ledger.run(command);
  assertFailed(events, reason, command.commandId);
  assert.equal(events[0]?.atMs, ledger.nowMs);
  assert.deepEqual([...ledger.state.accounts.entries()], before);
  assert.deepEqual([...ledger.state.pendings.entries()], pendingsBefore);
  assert.equal(ledger.state.changedAccounts.size, changedBefore);
}

describe("CreateAccount", () => {
  const create = (extra: Partial<Extract<LedgerCommand, { type: "CreateAccount" }>> = {}): LedgerCommand => ({
    type: "CreateAccount",
    commandId: nextCommandId(),
    fingerprint: "fp",
    accountId: "acc-1",
    ownerId: "alice",
    asset: "EUR",
    overdraftLimit: 0n,
    system: false,
    tokenHash: "abc123",
    ...extra,
  });

  test("opens an empty account with the IBAN the context allocated", () => {
    const ledger = new Ledger();
    const command = create({ overdraftLimit: 500n });
    const events = ledger.run(command);
    assert.equal(events.length, 1);
    const event = events[0];
    assert.equal(event?.type, "AccountCreationConfirmed");
    assert.equal(event.commandId, command.commandId);
    assert.equal(event.atMs, t0);
    assert.deepEqual(event.account, {
      id: "acc-1",
      iban: ibanOf(1),
      ownerId: "alice",
      asset: "EUR",
      balance: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
      overdraftLimit: 500n,
      system: false,
      tokenHash: "abc123",
    });
    assert.equal(ledger.ibansAllocated, 1);
    assert.deepEqual(ledger.state.accountByIban(ibanOf(1)), event.account);
    assert.deepEqual(ledger.state.accountById("acc-1"), event.account);
    assert.ok(ledger.state.createdAccounts.has("acc-1"));
    assert.ok(ledger.state.changedAccounts.has("acc-1"));
  });

  test("a system account keeps its flag and an empty token hash", () => {
    const ledger = new Ledger();
    ledger.run(create({ accountId: "treasury-eur", system: true, tokenHash: "", ownerId: "platform" }));
    const account = ledger.account("treasury-eur");
    assert.equal(account.system, true);
    assert.equal(account.tokenHash, "");
  });

  test("an unknown asset is rejected and no IBAN is consumed", () => {
    const ledger = new Ledger();
    for (const asset of ["XXX", "eur", "", "toString", "__proto__"]) {
      const command = create({ asset });
      const events = ledger.run(command);
      assert.deepEqual(events, [
        {
          type: "AccountCreationFailed",
          commandId: command.commandId,
          accountId: "acc-1",
          reason: "unknown_asset",
          atMs: t0,
        },
      ]);
    }
    assert.equal(ledger.ibansAllocated, 0);
    assert.equal(ledger.state.accounts.size, 0);
  });

  test("a second account with the same id is rejected and the first is left untouched", () => {
    const ledger = new Ledger();
    ledger.run(create({ ownerId: "alice" }));
    const first = ledger.account("acc-1");
    const command = create({ ownerId: "mallory", asset: "USD", tokenHash: "other" });
    const events = ledger.run(command);
    assert.deepEqual(events, [
      {
        type: "AccountCreationFailed",
        commandId: command.commandId,
        accountId: "acc-1",
        reason: "account_exists",
        atMs: t0,
      },
    ]);
    assert.deepEqual(ledger.account("acc-1"), first);
    assert.equal(ledger.ibansAllocated, 1);
    assert.equal(ledger.state.accounts.size, 1);
  });

  test("an unknown asset is reported before a duplicate id", () => {
    const ledger = new Ledger();
    ledger.run(create());
    const events = ledger.run(create({ asset: "XXX" }));
    assert.equal(events[0]?.type, "AccountCreationFailed");
    assert.equal(events[0]?.type === "AccountCreationFailed" && events[0].reason, "unknown_asset");
  });

  test("a negative overdraft limit is a broken invariant, not a rejection", () => {
    const ledger = new Ledger();
    assert.throws(() => ledger.run(create({ overdraftLimit: -1n })), InvariantViolation);
    assert.equal(ledger.state.accounts.size, 0);
  });
});

describe("TransferMoney rejections", () => {
  function world() {
    const ledger = new Ledger();
    const alice = ledger.seed({ id: "alice-eur", ownerId: "alice", balance: 1_000n });
    const bob = ledger.seed({ id: "bob-eur", ownerId: "bob", balance: 0n });
    const aliceUsd = ledger.seed({ id: "alice-usd", ownerId: "alice", asset: "USD", balance: 1_000n });
    const treasury = ledger.seed({
      id: "treasury-eur",
      ownerId: "platform",
      system: true,
      tokenHash: "",
      balance: -1_000n,
    });
    return { ledger, alice, bob, aliceUsd, treasury };
  }
  const unknownIban = ibanOf(9_999_999);

  test("unknown_asset comes first, even for the same or unknown accounts", () => {
    const { ledger, alice, bob } = world();
    for (const asset of ["XXX", "", "eur", "constructor"]) {
      assertRejectedWithoutEffect(ledger, transfer(alice, bob, 1n, { asset }), "unknown_asset");
    }
    assertRejectedWithoutEffect(ledger, transfer(alice, alice, 1n, { asset: "XXX" }), "unknown_asset");
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { asset: "XXX", debitIban: unknownIban }),
      "unknown_asset",
    );
  });

  test("same_account comes before unknown_account and any authorization check", () => {
    const { ledger, alice } = world();
    assertRejectedWithoutEffect(ledger, transfer(alice, alice, 1n), "same_account");
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, alice, 1n, { authorization: { kind: "owner", actorId: "mallory" } }),
      "same_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, alice, 1n, { debitIban: unknownIban, creditIban: unknownIban }),
      "same_account",
    );
  });

  test("unknown_account when either side does not exist", () => {
    const { ledger, alice, bob } = world();
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { debitIban: unknownIban }),
      "unknown_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { creditIban: unknownIban }),
      "unknown_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { debitIban: unknownIban, creditIban: ibanOf(9_999_998) }),
      "unknown_account",
    );
  });

  test("a non-owner learns nothing: unknown_account, before asset or funds checks", () => {
    const { ledger, alice, bob, aliceUsd } = world();
    const mallory: Authorization = { kind: "owner", actorId: "mallory" };
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { authorization: mallory }),
      "unknown_account",
    );
    // The credited account's owner may not pull money either.
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { authorization: { kind: "owner", actorId: "bob" } }),
      "unknown_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(aliceUsd, bob, 1n, { authorization: mallory }),
      "unknown_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1_000_000n, { authorization: mallory }),
      "unknown_account",
    );
  });

  test("a wrong token is invalid_token to the owner only; a system account has no token at all", () => {
    const { ledger, alice, bob, treasury } = world();
    const wrong: Authorization = { kind: "token", actorId: "alice", tokenHash: "hash-of-bob-eur" };
    assertRejectedWithoutEffect(ledger, transfer(alice, bob, 1n, { authorization: wrong }), "invalid_token");
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { authorization: { kind: "token", actorId: "alice", tokenHash: "" } }),
      "invalid_token",
    );
    // Presenting the empty hash of a token-less system account must never open it.
    assertRejectedWithoutEffect(
      ledger,
      transfer(treasury, bob, 1n, { authorization: { kind: "token", actorId: "anyone", tokenHash: "" } }),
      "unknown_account",
    );
    // Checked before asset and funds, after existence.
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1_000_000n, { authorization: wrong }),
      "invalid_token",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { authorization: wrong, creditIban: unknownIban }),
      "unknown_account",
    );
  });

  test("a non-owner's wrong token is answered as for a missing account (existence does not leak)", () => {
    const { ledger, alice, bob } = world();
    const wrong: Authorization = { kind: "token", actorId: "mallory", tokenHash: "hash-of-bob-eur" };
    const existing = ledger.run(transfer(alice, bob, 1n, { authorization: wrong }));
    const missing = ledger.run(transfer(alice, bob, 1n, { authorization: wrong, debitIban: unknownIban }));
    const reasonOf = (events: readonly { type: string; reason?: string }[]) => events[0]?.reason;
    assert.equal(reasonOf(existing), "unknown_account");
    assert.equal(reasonOf(existing), reasonOf(missing));
  });

  test("the right token authorises anyone, the owner check does not apply", () => {
    const { ledger, alice, bob } = world();
    const events = ledger.run(
      transfer(alice, bob, 10n, {
        authorization: { kind: "token", actorId: "stranger", tokenHash: "hash-of-alice-eur" },
      }),
    );
    assert.equal(confirmed(events).amount, 10n);
    assert.equal(ledger.account("alice-eur").balance, 990n);
  });

  test("an operator may debit any account (cash desk, gateway)", () => {
    const { ledger, alice, bob } = world();
    confirmed(ledger.run(transfer(alice, bob, 10n, { authorization: operator, kind: "withdrawal" })));
    assert.equal(ledger.account("bob-eur").balance, 10n);
  });

  test("asset_mismatch when the command's asset differs from either account", () => {
    const { ledger, alice, bob, aliceUsd } = world();
    assertRejectedWithoutEffect(ledger, transfer(aliceUsd, bob, 1n), "asset_mismatch");
    assertRejectedWithoutEffect(ledger, transfer(aliceUsd, bob, 1n, { asset: "EUR" }), "asset_mismatch");
    assertRejectedWithoutEffect(ledger, transfer(alice, bob, 1n, { asset: "USD" }), "asset_mismatch");
    // Reported before insufficient funds.
    assertRejectedWithoutEffect(ledger, transfer(aliceUsd, bob, 1_000_000n), "asset_mismatch");
  });

  test("insufficient_funds at exactly one unit beyond the balance", () => {
    const { ledger, alice, bob } = world();
    assertRejectedWithoutEffect(ledger, transfer(alice, bob, 1_001n), "insufficient_funds");
    confirmed(ledger.run(transfer(alice, bob, 1_000n)));
    assert.equal(ledger.account("alice-eur").balance, 0n);
    assertRejectedWithoutEffect(ledger, transfer(alice, bob, 1n), "insufficient_funds");
  });

  test("the overdraft limit extends what may be spent, to the unit", () => {
    const ledger = new Ledger();
    const carol = ledger.seed({ id: "carol", balance: 100n, overdraftLimit: 50n });
    const dave = ledger.seed({ id: "dave" });
    assertRejectedWithoutEffect(ledger, transfer(carol, dave, 151n), "insufficient_funds");
    confirmed(ledger.run(transfer(carol, dave, 150n)));
    assert.equal(ledger.account("carol").balance, -50n);
    assert.equal(available(ledger.account("carol")), 0n);
    assertRejectedWithoutEffect(ledger, transfer(ledger.account("carol"), dave, 1n), "insufficient_funds");
  });

  test("pending reservations out of the account reduce what may be spent; pending credits do not add", () => {
    const ledger = new Ledger();
    const carol = ledger.seed({ id: "carol", balance: 100n, debitsPending: 30n, creditsPending: 1_000n });
    const dave = ledger.seed({ id: "dave" });
    assertRejectedWithoutEffect(ledger, transfer(carol, dave, 71n), "insufficient_funds");
    confirmed(ledger.run(transfer(carol, dave, 70n)));
  });

  test("system accounts may go negative without limit (down to the 64-bit floor)", () => {
    const { ledger, bob, treasury } = world();
    const events = ledger.run(transfer(treasury, bob, 1_000_000n, { authorization: operator }));
    confirmed(events);
    assert.equal(ledger.account("treasury-eur").balance, -1_001_000n);
    const farBelow = ledger.seed({ id: "deep", system: true, tokenHash: "", balance: -(amountMax - 10n) });
    confirmed(ledger.run(transfer(farBelow, bob, 10n, { authorization: operator })));
    assert.equal(ledger.account("deep").balance, -amountMax);
  });

  test("balance_overflow when the credited balance would pass 2^63-1, counting pending credits", () => {
    const ledger = new Ledger();
    const source = ledger.seed({ id: "source", system: true, tokenHash: "" });
    const rich = ledger.seed({ id: "rich", balance: amountMax - 5n });
    assertRejectedWithoutEffect(
      ledger,
      transfer(source, rich, 6n, { authorization: operator }),
      "balance_overflow",
    );
    confirmed(
      ledger.run(transfer(ledger.account("source"), ledger.account("rich"), 5n, { authorization: operator })),
    );
    assert.equal(ledger.account("rich").balance, amountMax);

    const expecting = ledger.seed({ id: "expecting", balance: amountMax - 10n, creditsPending: 5n });
    assertRejectedWithoutEffect(
      ledger,
      transfer(source, expecting, 6n, { authorization: operator }),
      "balance_overflow",
    );
    confirmed(ledger.run(transfer(source, expecting, 5n, { authorization: operator })));
  });

  test("balance_overflow when a system account's debit would pass -(2^63-1), counting reservations", () => {
    const ledger = new Ledger();
    const target = ledger.seed({ id: "target", system: true, tokenHash: "" });
    const sink = ledger.seed({
      id: "sink",
      system: true,
      tokenHash: "",
      balance: -(amountMax - 10n),
      debitsPending: 5n,
    });
    assertRejectedWithoutEffect(
      ledger,
      transfer(sink, target, 6n, { authorization: operator }),
      "balance_overflow",
    );
    confirmed(ledger.run(transfer(sink, target, 5n, { authorization: operator })));
    assert.equal(ledger.account("sink").balance, -(amountMax - 5n));
  });

  test("a zero, negative or out-of-range amount is a broken invariant (validated at the edge)", () => {
    const { ledger, alice, bob } = world();
    for (const amount of [0n, -1n, amountMax + 1n]) {
      assert.throws(() => ledger.run(transfer(alice, bob, amount)), InvariantViolation, String(amount));
    }
    assert.equal(ledger.account("alice-eur").balance, 1_000n);
  });
});

describe("TransferMoney success", () => {
  test("one confirmation then one BalanceChanged per account, with signed changes and counterparties", () => {
    const ledger = new Ledger();
    ledger.nowMs = t0 + 42;
    const alice = ledger.seed({ id: "alice", ownerId: "alice", balance: 1_000n });
    const bob = ledger.seed({ id: "bob", ownerId: "bob", balance: 7n });
    const command = transfer(alice, bob, 250n, { description: "dinner" });
    const events = ledger.run(command);
    assert.deepEqual(events, [
      {
        type: "MoneyTransferConfirmed",
        commandId: command.commandId,
        transferId: command.commandId,
        kind: "transfer",
        phase: "single",
        debitAccountId: "alice",
        creditAccountId: "bob",
        debitIban: alice.iban,
        creditIban: bob.iban,
        amount: 250n,
        asset: "EUR",
        description: "dinner",
        atMs: t0 + 42,
      },
      {
        type: "BalanceChanged",
        commandId: command.commandId,
        accountId: "alice",
        iban: alice.iban,
        asset: "EUR",
        newBalance: 750n,
        changedBy: -250n,
        counterpartyIban: bob.iban,
        description: "dinner",
        atMs: t0 + 42,
      },
      {
        type: "BalanceChanged",
        commandId: command.commandId,
        accountId: "bob",
        iban: bob.iban,
        asset: "EUR",
        newBalance: 257n,
        changedBy: 250n,
        counterpartyIban: alice.iban,
        description: "dinner",
        atMs: t0 + 42,
      },
    ]);
    assert.equal("expiresAtMs" in (events[0] as object), false);
    for (const change of balanceChanges(events)) {
      assert.equal(ledger.account(change.accountId).balance, change.newBalance);
    }
    assert.deepEqual([...ledger.state.changedAccounts].sort(), ["alice", "bob"]);
  });

  test("the kind (deposit, withdrawal) is carried to the confirmation", () => {
    const ledger = new Ledger();
    const branch = ledger.seed({ id: "branch-cash", system: true, tokenHash: "" });
    const alice = ledger.seed({ id: "alice", ownerId: "alice" });
    const deposit = confirmed(
      ledger.run(transfer(branch, alice, 500n, { kind: "deposit", authorization: operator })),
    );
    assert.equal(deposit.kind, "deposit");
    const withdrawal = confirmed(
      ledger.run(
        transfer(ledger.account("alice"), branch, 200n, { kind: "withdrawal", authorization: operator }),
      ),
    );
    assert.equal(withdrawal.kind, "withdrawal");
    assert.equal(ledger.account("alice").balance, 300n);
    assert.equal(ledger.account("branch-cash").balance, -300n);
  });

  test("a chain of transfers conserves money and every BalanceChanged matches the state after it", () => {
    const ledger = new Ledger();
    const treasury = ledger.seed({ id: "treasury", system: true, tokenHash: "" });
    const ids = ["a", "b", "c"];
    for (const id of ids) ledger.seed({ id, ownerId: id });
    confirmed(ledger.run(transfer(treasury, ledger.account("a"), 100n, { authorization: operator })));
    const plan: [string, string, bigint][] = [
      ["a", "b", 60n],
      ["b", "c", 30n],
      ["c", "a", 30n],
      ["a", "c", 70n],
    ];
    for (const [from, to, amount] of plan) {
      const events = ledger.run(transfer(ledger.account(from), ledger.account(to), amount));
      confirmed(events);
      const changes = balanceChanges(events);
      assert.equal(changes.length, 2);
      const [debitChange, creditChange] = changes;
      assert.ok(debitChange && creditChange);
      assert.equal(debitChange.changedBy + creditChange.changedBy, 0n);
      for (const change of changes) assert.equal(ledger.account(change.accountId).balance, change.newBalance);
    }
    const total = [...ledger.state.accounts.values()].reduce((sum, account) => sum + account.balance, 0n);
    assert.equal(total, 0n);
    assert.deepEqual(
      ids.map((id) => ledger.account(id).balance),
      [0n, 30n, 70n],
    );
  });
});

describe("two-phase transfers", () => {
  function world() {
    const ledger = new Ledger();
    const alice = ledger.seed({ id: "alice", ownerId: "alice", balance: 1_000n, overdraftLimit: 100n });
    const bob = ledger.seed({ id: "bob", ownerId: "bob", balance: 50n });
    return { ledger, alice, bob };
  }

  function reserve(ledger: Ledger, amount: bigint, timeoutMs = 60_000): string {
    const command = transfer(ledger.account("alice"), ledger.account("bob"), amount, {
      pendingTimeoutMs: timeoutMs,
    });
    const events = ledger.run(command);
    assert.equal(events.length, 1, "a reservation moves no posted balance, so no BalanceChanged");
    const event = confirmed(events);
    assert.equal(event.phase, "pending");
    assert.equal(event.transferId, command.commandId);
    assert.equal(event.expiresAtMs, ledger.nowMs + timeoutMs);
    return command.commandId;
  }

  test("a pending transfer reserves: posted balances stay, available drops, a pending record appears", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 400n);
    const alice = ledger.account("alice");
    const bob = ledger.account("bob");
    assert.equal(alice.balance, 1_000n);
    assert.equal(alice.debitsPending, 400n);
    assert.equal(available(alice), 700n);
    assert.equal(bob.balance, 50n);
    assert.equal(bob.creditsPending, 400n);
    assert.equal(available(bob), 50n, "money on its way in cannot be spent yet");
    assert.deepEqual(ledger.state.pendingTransfer(pendingId), {
      id: pendingId,
      kind: "transfer",
      debitAccountId: "alice",
      creditAccountId: "bob",
      amount: 400n,
      asset: "EUR",
      description: "rent",
      expiresAtMs: t0 + 60_000,
      state: "pending",
    });
    assert.ok(ledger.state.changedPendings.has(pendingId));
    // The reservation counts against further spending, to the unit.
    assertRejectedWithoutEffect(ledger, transfer(alice, bob, 701n), "insufficient_funds");
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 701n, { pendingTimeoutMs: 1_000 }),
      "insufficient_funds",
    );
    reserve(ledger, 700n);
    assert.equal(available(ledger.account("alice")), 0n);
  });

  test("a pending transfer is rejected by the same rules as a single one", () => {
    const { ledger, alice, bob } = world();
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1_101n, { pendingTimeoutMs: 1_000 }),
      "insufficient_funds",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, alice, 1n, { pendingTimeoutMs: 1_000 }),
      "same_account",
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(alice, bob, 1n, { pendingTimeoutMs: 1_000, authorization: { kind: "owner", actorId: "bob" } }),
      "unknown_account",
    );
  });

  test("posting moves the reserved money and reports both balances", () => {
    const { ledger, alice, bob } = world();
    const pendingId = reserve(ledger, 400n);
    ledger.nowMs += 1_000;
    const command = post(pendingId);
    const events = ledger.run(command);
    assert.equal(events.length, 3);
    const event = confirmed(events);
    assert.equal(event.commandId, command.commandId);
    assert.equal(event.transferId, pendingId);
    assert.equal(event.phase, "posted");
    assert.equal(event.amount, 400n);
    assert.equal(event.debitIban, alice.iban);
    assert.equal(event.creditIban, bob.iban);
    assert.equal(event.atMs, t0 + 1_000);
    const [debitChange, creditChange] = balanceChanges(events);
    assert.deepEqual(
      [
        debitChange?.accountId,
        debitChange?.changedBy,
        debitChange?.newBalance,
        debitChange?.counterpartyIban,
      ],
      ["alice", -400n, 600n, bob.iban],
    );
    assert.deepEqual(
      [
        creditChange?.accountId,
        creditChange?.changedBy,
        creditChange?.newBalance,
        creditChange?.counterpartyIban,
      ],
      ["bob", 400n, 450n, alice.iban],
    );
    assert.equal(debitChange?.commandId, command.commandId);
    const aliceAfter = ledger.account("alice");
    const bobAfter = ledger.account("bob");
    assert.deepEqual([aliceAfter.balance, aliceAfter.debitsPending], [600n, 0n]);
    assert.deepEqual([bobAfter.balance, bobAfter.creditsPending], [450n, 0n]);
    assert.equal(available(aliceAfter), 700n, "posting does not change what may be spent");
    assert.equal(ledger.state.pendingTransfer(pendingId)?.state, "posted");
  });

  test("posting in part moves that amount and releases the rest of the reservation", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 400n);
    const events = ledger.run({ ...post(pendingId), amount: 150n });
    const event = confirmed(events);
    assert.deepEqual([event.phase, event.amount], ["posted", 150n]);
    assert.deepEqual(
      balanceChanges(events).map((c) => [c.accountId, c.changedBy, c.newBalance]),
      [
        ["alice", -150n, 850n],
        ["bob", 150n, 200n],
      ],
    );
    const aliceAfter = ledger.account("alice");
    const bobAfter = ledger.account("bob");
    assert.deepEqual([aliceAfter.balance, aliceAfter.debitsPending, available(aliceAfter)], [850n, 0n, 950n]);
    assert.deepEqual([bobAfter.balance, bobAfter.creditsPending], [200n, 0n]);
    assert.equal(ledger.state.pendingTransfer(pendingId)?.state, "posted");
    assertRejectedWithoutEffect(ledger, post(pendingId), "pending_transfer_already_posted");
  });

  test("posting more than is pending is amount_exceeds_pending; exactly the amount posts it all", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 400n);
    assertRejectedWithoutEffect(ledger, { ...post(pendingId), amount: 401n }, "amount_exceeds_pending");
    assert.equal(confirmed(ledger.run({ ...post(pendingId), amount: 400n })).amount, 400n);
    assert.equal(ledger.account("bob").balance, 450n);
  });

  test("a customer completes only pending transfers out of an account they may debit", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 400n);
    const asBob: Authorization = { kind: "owner", actorId: "bob" };
    const wrongToken: Authorization = { kind: "token", actorId: "mallory", tokenHash: "hash-of-bob" };
    const ownersWrongToken: Authorization = { kind: "token", actorId: "alice", tokenHash: "hash-of-bob" };
    // To anyone who may not debit alice's account, the pending transfer does not exist.
    assertRejectedWithoutEffect(
      ledger,
      { ...post(pendingId), authorization: asBob },
      "pending_transfer_not_found",
    );
    assertRejectedWithoutEffect(
      ledger,
      { ...voidPending(pendingId), authorization: wrongToken },
      "pending_transfer_not_found",
    );
    assertRejectedWithoutEffect(
      ledger,
      { ...post(pendingId), authorization: ownersWrongToken },
      "invalid_token",
    );
    const withToken: Authorization = { kind: "token", actorId: "merchant", tokenHash: "hash-of-alice" };
    assert.equal(
      confirmed(ledger.run({ ...post(pendingId), amount: 1n, authorization: withToken })).amount,
      1n,
    );
    const second = reserve(ledger, 10n);
    const asAlice: Authorization = { kind: "owner", actorId: "alice" };
    assert.equal(confirmed(ledger.run({ ...voidPending(second), authorization: asAlice })).phase, "voided");
  });

  test("voiding releases the reservation and moves nothing", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 400n);
    const command = voidPending(pendingId);
    const events = ledger.run(command);
    assert.equal(events.length, 1, "no posted balance changed");
    const event = confirmed(events);
    assert.equal(event.phase, "voided");
    assert.equal(event.transferId, pendingId);
    assert.equal(event.commandId, command.commandId);
    const alice = ledger.account("alice");
    const bob = ledger.account("bob");
    assert.deepEqual([alice.balance, alice.debitsPending, available(alice)], [1_000n, 0n, 1_100n]);
    assert.deepEqual([bob.balance, bob.creditsPending], [50n, 0n]);
    assert.equal(ledger.state.pendingTransfer(pendingId)?.state, "voided");
  });

  test("posting one unit of time before expiry works; at expiry it is pending_transfer_expired", () => {
    const a = world();
    const early = reserve(a.ledger, 100n, 5_000);
    a.ledger.nowMs = t0 + 4_999;
    assert.equal(confirmed(a.ledger.run(post(early))).phase, "posted");

    const b = world();
    const late = reserve(b.ledger, 100n, 5_000);
    b.ledger.nowMs = t0 + 5_000;
    assertRejectedWithoutEffect(b.ledger, post(late), "pending_transfer_expired");
    assert.equal(
      b.ledger.state.pendingTransfer(late)?.state,
      "pending",
      "the sweeper, not a post, expires it",
    );
    assert.equal(b.ledger.account("alice").debitsPending, 100n);
  });

  test("a zero timeout expires at once", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 100n, 0);
    assertRejectedWithoutEffect(ledger, post(pendingId), "pending_transfer_expired");
  });

  test("voiding after expiry is allowed and reported as expired, whoever asks", () => {
    for (const cause of ["voided", "expired"] as const) {
      const { ledger } = world();
      const pendingId = reserve(ledger, 100n, 5_000);
      ledger.nowMs = t0 + 10_000;
      const event = confirmed(ledger.run(voidPending(pendingId, cause)));
      assert.equal(event.phase, "expired", cause);
      assert.equal(ledger.state.pendingTransfer(pendingId)?.state, "expired");
      assert.equal(ledger.account("alice").debitsPending, 0n);
      assert.equal(ledger.account("bob").creditsPending, 0n);
      assert.equal(ledger.account("alice").balance, 1_000n);
    }
  });

  test("a timeout that is not a non-negative integer is a broken invariant (validated at the edge)", () => {
    for (const timeoutMs of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5]) {
      const { ledger } = world();
      const command = transfer(ledger.account("alice"), ledger.account("bob"), 1n, {
        pendingTimeoutMs: timeoutMs,
      });
      assert.throws(() => ledger.run(command), InvariantViolation, String(timeoutMs));
    }
  });

  test("the sweeper's void before the deadline still reports expired", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 100n, 5_000);
    assert.equal(confirmed(ledger.run(voidPending(pendingId, "expired"))).phase, "expired");
  });

  test("a completed pending transfer cannot complete again", () => {
    const cases: ["post" | "void" | "expire", "post" | "void", string][] = [
      ["post", "post", "pending_transfer_already_posted"],
      ["post", "void", "pending_transfer_already_posted"],
      ["void", "post", "pending_transfer_already_voided"],
      ["void", "void", "pending_transfer_already_voided"],
      ["expire", "post", "pending_transfer_expired"],
      ["expire", "void", "pending_transfer_expired"],
    ];
    for (const [first, second, reason] of cases) {
      const { ledger } = world();
      const pendingId = reserve(ledger, 100n);
      const completing =
        first === "post" ? post(pendingId) : voidPending(pendingId, first === "void" ? "voided" : "expired");
      confirmed(ledger.run(completing));
      const again = second === "post" ? post(pendingId) : voidPending(pendingId);
      assertRejectedWithoutEffect(ledger, again, reason);
    }
  });

  test("posting or voiding an unknown pending transfer is pending_transfer_not_found", () => {
    const { ledger, alice, bob } = world();
    assertRejectedWithoutEffect(ledger, post("nope"), "pending_transfer_not_found");
    assertRejectedWithoutEffect(ledger, voidPending("nope"), "pending_transfer_not_found");
    // A single (non-pending) transfer's id is not a pending transfer.
    const single = transfer(alice, bob, 1n);
    confirmed(ledger.run(single));
    assertRejectedWithoutEffect(ledger, post(single.commandId), "pending_transfer_not_found");
  });

  test("posting with an overdraft in use keeps the account within its limit", () => {
    const { ledger } = world();
    const pendingId = reserve(ledger, 1_100n);
    assert.equal(available(ledger.account("alice")), 0n);
    confirmed(ledger.run(post(pendingId)));
    assert.equal(ledger.account("alice").balance, -100n);
    assert.equal(available(ledger.account("alice")), 0n);
  });

  test("pending credits count toward the credited account's overflow bound", () => {
    const ledger = new Ledger();
    const source = ledger.seed({ id: "source", system: true, tokenHash: "" });
    const target = ledger.seed({ id: "target", system: true, tokenHash: "", balance: amountMax - 10n });
    confirmed(
      ledger.run(transfer(source, target, 10n, { authorization: operator, pendingTimeoutMs: 1_000 })),
    );
    assertRejectedWithoutEffect(
      ledger,
      transfer(source, target, 1n, { authorization: operator }),
      "balance_overflow",
    );
  });

  test("reservations never exceed what a 64-bit column holds", () => {
    // A system account holding 2^63-1 reserves 2^63-1 twice: its balance stays in range at every step
    // (even after both post), but debitsPending reaches 2^64-2 and cannot be stored or encoded.
    const ledger = new Ledger();
    const rich = ledger.seed({ id: "rich", system: true, tokenHash: "", balance: amountMax });
    const first = ledger.seed({ id: "first", system: true, tokenHash: "" });
    const second = ledger.seed({ id: "second", system: true, tokenHash: "" });
    confirmed(
      ledger.run(transfer(rich, first, amountMax, { authorization: operator, pendingTimeoutMs: 1_000 })),
    );
    const events = ledger.run(
      transfer(ledger.account("rich"), second, amountMax, {
        authorization: operator,
        pendingTimeoutMs: 1_000,
      }),
    );
    assert.ok(
      ledger.account("rich").debitsPending <= amountMax,
      `debitsPending ${ledger.account("rich").debitsPending}`,
    );
    assertFailed(events, "balance_overflow");
  });

  test("pending credits never exceed what a 64-bit column holds", () => {
    const ledger = new Ledger();
    const sink = ledger.seed({ id: "sink", system: true, tokenHash: "", balance: -amountMax });
    const a = ledger.seed({ id: "a", system: true, tokenHash: "" });
    const b = ledger.seed({ id: "b", system: true, tokenHash: "" });
    confirmed(ledger.run(transfer(a, sink, amountMax, { authorization: operator, pendingTimeoutMs: 1_000 })));
    const events = ledger.run(
      transfer(b, ledger.account("sink"), amountMax, { authorization: operator, pendingTimeoutMs: 1_000 }),
    );
    assert.ok(
      ledger.account("sink").creditsPending <= amountMax,
      `creditsPending ${ledger.account("sink").creditsPending}`,
    );
    assertFailed(events, "balance_overflow");
  });

  test("posting a pending deposit confirms a deposit, not a plain transfer", () => {
    const ledger = new Ledger();
    const branch = ledger.seed({ id: "branch", system: true, tokenHash: "" });
    const alice = ledger.seed({ id: "alice" });
    const pendingId = confirmed(
      ledger.run(
        transfer(branch, alice, 10n, { kind: "deposit", authorization: operator, pendingTimeoutMs: 1_000 }),
      ),
    ).transferId;
    assert.equal(confirmed(ledger.run(post(pendingId))).kind, "deposit");
  });
});

describe("evolve", () => {
  test("failures and BalanceChanged change nothing", () => {
    const ledger = new Ledger();
    ledger.seed({ id: "a", balance: 10n });
    const before = structuredClone([...ledger.state.accounts.entries()]);
    const noops: LedgerEvent[] = [
      { type: "MoneyTransferFailed", commandId: "x", reason: "insufficient_funds", atMs: t0 },
      { type: "AccountCreationFailed", commandId: "x", accountId: "a", reason: "account_exists", atMs: t0 },
      {
        type: "BalanceChanged",
        commandId: "x",
        accountId: "a",
        iban: ibanOf(1),
        asset: "EUR",
        newBalance: 999n,
        changedBy: 989n,
        counterpartyIban: ibanOf(2),
        description: "",
        atMs: t0,
      },
    ];
    for (const event of noops) evolve(ledger.state, event);
    assert.deepEqual([...ledger.state.accounts.entries()], before);
    assert.equal(ledger.state.changedAccounts.size, 0);
  });

  test("a movement that would overdraw a customer account is refused by evolve's invariant check", () => {
    const ledger = new Ledger();
    ledger.seed({ id: "a", balance: 10n });
    ledger.seed({ id: "b" });
    const forged: MoneyTransferConfirmed = {
      type: "MoneyTransferConfirmed",
      commandId: "forged",
      transferId: "forged",
      kind: "transfer",
      phase: "single",
      debitAccountId: "a",
      creditAccountId: "b",
      debitIban: ibanOf(1),
      creditIban: ibanOf(2),
      amount: 11n,
      asset: "EUR",
      description: "",
      atMs: t0,
    };
    assert.throws(() => evolve(ledger.state, forged), InvariantViolation);
  });

  test("completing a transfer that is not pending is refused by evolve", () => {
    const ledger = new Ledger();
    ledger.seed({ id: "a", balance: 10n });
    ledger.seed({ id: "b" });
    const completion: MoneyTransferConfirmed = {
      type: "MoneyTransferConfirmed",
      commandId: "c",
      transferId: "never-reserved",
      kind: "transfer",
      phase: "posted",
      debitAccountId: "a",
      creditAccountId: "b",
      debitIban: ibanOf(1),
      creditIban: ibanOf(2),
      amount: 1n,
      asset: "EUR",
      description: "",
      atMs: t0,
    };
    assert.throws(() => evolve(ledger.state, completion), InvariantViolation);
  });

  test("a fresh working set loaded from persisted state decides the same as the one that built it", () => {
    const ledger = new Ledger();
    const alice = ledger.seed({ id: "alice", ownerId: "alice", balance: 500n });
    const bob = ledger.seed({ id: "bob", ownerId: "bob" });
    const pendingCommand = transfer(alice, bob, 200n, { pendingTimeoutMs: 10_000 });
    confirmed(ledger.run(pendingCommand));
    const reloaded = new Ledger();
    for (const account of ledger.state.accounts.values()) reloaded.state.load(account);
    for (const pending of ledger.state.pendings.values()) reloaded.state.loadPending(pending);
    const next = transfer(ledger.account("alice"), bob, 301n);
    assertFailed(reloaded.run(next), "insufficient_funds");
    const posting = post(pendingCommand.commandId);
    assert.equal(confirmed(reloaded.run(posting)).phase, "posted");
    assert.equal(reloaded.account("alice").balance, 300n);
    assert.deepEqual([...reloaded.state.changedPendings], [pendingCommand.commandId]);
  });
});
