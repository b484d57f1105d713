/**
 * Rebuilds account balances from `ledger.balance-changed` the way any projection must:
 * records arrive at least once (the outbox relay may republish after a crash, possibly after newer
 * events), so only the first occurrence of (commandId, iban) counts, and the last counted event of
 * an IBAN (its partition keeps its order) carries its balance.
 */
export interface BalanceEvent {
  readonly commandId: string;
  readonly iban: string;
  readonly newBalance: bigint;
}

export interface Rebuild {
  readonly balances: ReadonlyMap<string, bigint>;
  /** Per IBAN, the command ids that changed it, in the order they were applied. */
  readonly commandOrder: ReadonlyMap<string, readonly string[]>;
  readonly duplicates: number;
}

/** `events` in log order per partition; an IBAN lives on one partition, so its order is kept. */
export function rebuildBalances(events: Iterable<BalanceEvent>): Rebuild {
  const seen = new Set<string>();
  const balances = new Map<string, bigint>();
  const commandOrder = new Map<string, string[]>();
  let duplicates = 0;
  for (const event of events) {
    const key = `${event.commandId}\u0000${event.iban}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    balances.set(event.iban, event.newBalance);
    const order = commandOrder.get(event.iban) ?? [];
    order.push(event.commandId);
    commandOrder.set(event.iban, order);
  }
  return { balances, commandOrder, duplicates };
}

/** The issued commands that a log of applied commands confirms, in issue order; undefined if equal. */
export function orderViolation(
  issued: readonly string[],
  applied: readonly string[],
): { readonly expected: readonly string[]; readonly actual: readonly string[] } | undefined {
  const issuedSet = new Set(issued);
  const actual = applied.filter((id) => issuedSet.has(id));
  const appliedSet = new Set(actual);
  const expected = issued.filter((id) => appliedSet.has(id));
  const same = expected.length === actual.length && expected.every((id, i) => id === actual[i]);
  return same ? undefined : { expected, actual };
}
