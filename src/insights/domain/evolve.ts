/**
 * The insights projections' pure part: what one confirmed movement of the ledger changes in the
 * read models, and how the changes of a batch fold into one row per key (fewer upserts). No I/O:
 * owners of the IBANs and the branch's id are looked up by the adapter and handed in.
 */

/** A confirmed movement as the projections see it (a ledger outcome plus who owns each side). */
export interface Movement {
  readonly commandId: string;
  readonly transferId: string;
  readonly kind: "transfer" | "deposit" | "withdrawal";
  /** single, pending, posted, voided, expired: only single and posted moved money. */
  readonly phase: string;
  readonly debitIban: string;
  readonly creditIban: string;
  /** The client (user id) owning each side; undefined for system accounts (branch cash, clearing). */
  readonly debitClient: string | undefined;
  readonly creditClient: string | undefined;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  /** A cash operation's branch: its id, its key (lowercase name) and the name as typed. */
  readonly branch: { readonly id: string; readonly key: string; readonly name: string } | undefined;
  readonly atMs: number;
}

export interface InteractionDelta {
  readonly clientId: string;
  readonly counterpartyId: string;
  /** The counterparty's IBAN in the latest of these transfers (where to send money to them again). */
  readonly counterpartyIban: string;
  readonly asset: string;
  readonly sentCount: bigint;
  readonly sentTotal: bigint;
  readonly receivedCount: bigint;
  readonly receivedTotal: bigint;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface TransactionRow {
  readonly clientId: string;
  readonly commandId: string;
  readonly transferId: string;
  readonly iban: string;
  readonly counterparty: string;
  readonly counterpartyId: string | undefined;
  /** Signed: negative when the client's account was debited. */
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
}

export interface BranchSeen {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly firstAtMs: number;
}

export interface ClientBranchDelta {
  readonly clientId: string;
  readonly branchId: string;
  readonly deposits: bigint;
  readonly withdrawals: bigint;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface BranchVolumeDelta {
  readonly branchId: string;
  readonly asset: string;
  readonly deposits: bigint;
  readonly withdrawals: bigint;
  readonly deposited: bigint;
  readonly withdrawn: bigint;
}

export interface OperationRow {
  readonly clientId: string;
  readonly commandId: string;
  readonly kind: "deposit" | "withdrawal";
  readonly iban: string;
  readonly branchId: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly atMs: number;
}

/** Holds (pending) only reserve, voided and expired ones release: only these phases moved money. */
export function movedMoney(movement: Movement): boolean {
  return movement.phase === "single" || movement.phase === "posted";
}

/** What the interactions projection records for one movement. */
export interface InteractionsChange {
  readonly interactions: readonly InteractionDelta[];
  readonly transactions: readonly TransactionRow[];
}

const noInteractions: InteractionsChange = { interactions: [], transactions: [] };

/**
 * A transfer between two clients is an interaction for each of them (sent for the payer, received
 * for the payee); every transfer a client's account took part in is one of their transactions.
 * Transfers between one client's own accounts are transactions, not interactions.
 */
export function evolveInteractions(movement: Movement): InteractionsChange {
  if (movement.kind !== "transfer" || !movedMoney(movement)) return noInteractions;
  const { debitClient: payer, creditClient: payee, amount, asset, atMs } = movement;
  const transactions: TransactionRow[] = [];
  const row = (
    clientId: string,
    iban: string,
    counterparty: string,
    other: string | undefined,
    signed: bigint,
  ) =>
    transactions.push({
      clientId,
      commandId: movement.commandId,
      transferId: movement.transferId,
      iban,
      counterparty,
      counterpartyId: other,
      amount: signed,
      asset,
      description: movement.description,
      atMs,
    });
  if (payer !== undefined) row(payer, movement.debitIban, movement.creditIban, payee, -amount);
  if (payee !== undefined) row(payee, movement.creditIban, movement.debitIban, payer, amount);
  if (payer === undefined || payee === undefined || payer === payee)
    return { interactions: [], transactions };
  const base = { asset, firstAtMs: atMs, lastAtMs: atMs };
  return {
    transactions,
    interactions: [
      {
        ...base,
        clientId: payer,
        counterpartyId: payee,
        counterpartyIban: movement.creditIban,
        sentCount: 1n,
        sentTotal: amount,
        receivedCount: 0n,
        receivedTotal: 0n,
      },
      {
        ...base,
        clientId: payee,
        counterpartyId: payer,
        counterpartyIban: movement.debitIban,
        sentCount: 0n,
        sentTotal: 0n,
        receivedCount: 1n,
        receivedTotal: amount,
      },
    ],
  };
}

/** What the branches projection records for one movement. */
export interface BranchesChange {
  readonly branches: readonly BranchSeen[];
  readonly clientBranches: readonly ClientBranchDelta[];
  readonly volumes: readonly BranchVolumeDelta[];
  readonly operations: readonly OperationRow[];
}

const noBranches: BranchesChange = { branches: [], clientBranches: [], volumes: [], operations: [] };

/**
 * A cash operation at a branch: the branch is seen (registered on first sight under the name typed
 * then), the client's count there grows, and the branch's cash volume in the asset.
 */
export function evolveBranches(movement: Movement): BranchesChange {
  const { branch, kind } = movement;
  if (branch === undefined || kind === "transfer" || !movedMoney(movement)) return noBranches;
  const deposit = kind === "deposit";
  const clientId = deposit ? movement.creditClient : movement.debitClient;
  const iban = deposit ? movement.creditIban : movement.debitIban;
  const seen: BranchSeen = { id: branch.id, key: branch.key, name: branch.name, firstAtMs: movement.atMs };
  const volume: BranchVolumeDelta = {
    branchId: branch.id,
    asset: movement.asset,
    deposits: deposit ? 1n : 0n,
    withdrawals: deposit ? 0n : 1n,
    deposited: deposit ? movement.amount : 0n,
    withdrawn: deposit ? 0n : movement.amount,
  };
  if (clientId === undefined) return { ...noBranches, branches: [seen], volumes: [volume] };
  return {
    branches: [seen],
    volumes: [volume],
    clientBranches: [
      {
        clientId,
        branchId: branch.id,
        deposits: volume.deposits,
        withdrawals: volume.withdrawals,
        firstAtMs: movement.atMs,
        lastAtMs: movement.atMs,
      },
    ],
    operations: [
      {
        clientId,
        commandId: movement.commandId,
        kind,
        iban,
        branchId: branch.id,
        amount: movement.amount,
        asset: movement.asset,
        atMs: movement.atMs,
      },
    ],
  };
}

/** Folds rows with the same key into one with `merge`; keeps the first row's position. */
function foldBy<T>(rows: readonly T[], keyOf: (row: T) => string, merge: (a: T, b: T) => T): T[] {
  const folded = new Map<string, T>();
  for (const row of rows) {
    const key = keyOf(row);
    const seen = folded.get(key);
    folded.set(key, seen === undefined ? row : merge(seen, row));
  }
  return [...folded.values()];
}

const span = (a: { firstAtMs: number; lastAtMs: number }, b: { firstAtMs: number; lastAtMs: number }) => ({
  firstAtMs: Math.min(a.firstAtMs, b.firstAtMs),
  lastAtMs: Math.max(a.lastAtMs, b.lastAtMs),
});

/** The interactions changes of a batch, one row per client, counterparty and asset. */
export function foldInteractions(changes: readonly InteractionsChange[]): InteractionsChange {
  return {
    transactions: changes.flatMap((c) => c.transactions),
    interactions: foldBy(
      changes.flatMap((c) => c.interactions),
      (d) => `${d.clientId}\u0000${d.counterpartyId}\u0000${d.asset}`,
      (a, b) => ({
        ...a,
        ...span(a, b),
        counterpartyIban: b.lastAtMs >= a.lastAtMs ? b.counterpartyIban : a.counterpartyIban,
        sentCount: a.sentCount + b.sentCount,
        sentTotal: a.sentTotal + b.sentTotal,
        receivedCount: a.receivedCount + b.receivedCount,
        receivedTotal: a.receivedTotal + b.receivedTotal,
      }),
    ),
  };
}

/** The branches changes of a batch, one row per branch, client and branch, branch and asset. */
export function foldBranches(changes: readonly BranchesChange[]): BranchesChange {
  return {
    // The first sighting in the batch names a new branch (the registry keeps the earliest).
    branches: foldBy(
      changes.flatMap((c) => c.branches),
      (b) => b.key,
      (a, b) => (b.firstAtMs < a.firstAtMs ? b : a),
    ),
    clientBranches: foldBy(
      changes.flatMap((c) => c.clientBranches),
      (d) => `${d.clientId}\u0000${d.branchId}`,
      (a, b) => ({
        ...a,
        ...span(a, b),
        deposits: a.deposits + b.deposits,
        withdrawals: a.withdrawals + b.withdrawals,
      }),
    ),
    volumes: foldBy(
      changes.flatMap((c) => c.volumes),
      (d) => `${d.branchId}\u0000${d.asset}`,
      (a, b) => ({
        ...a,
        deposits: a.deposits + b.deposits,
        withdrawals: a.withdrawals + b.withdrawals,
        deposited: a.deposited + b.deposited,
        withdrawn: a.withdrawn + b.withdrawn,
      }),
    ),
    operations: changes.flatMap((c) => c.operations),
  };
}
