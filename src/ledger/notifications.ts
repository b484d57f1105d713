/**
 * In-process fan-out of ledger events consumed from the log: API requests waiting for a command's
 * outcome (`Prefer: wait`), GraphQL/WebSocket subscribers, live stats. Fed by the notifier consumer,
 * so an outcome decided by a handler in any process reaches waiters in this one.
 */
import type { BalanceChanged } from "./domain/types.ts";
import type { PublishedOutcomeEnvelope } from "./schemas.ts";

export type CommandStatus = "PENDING" | "CONFIRMED" | "FAILED";

export interface CommandResult {
  readonly commandId: string;
  readonly fingerprint: string;
  readonly status: Exclude<CommandStatus, "PENDING">;
  readonly reason?: string;
  readonly result: Readonly<Record<string, string>>;
  readonly issuedAtMs: number;
  readonly decidedAtMs: number;
}

export function resultFromPublished(envelope: PublishedOutcomeEnvelope): CommandResult {
  const { outcome } = envelope;
  const base = {
    commandId: envelope.commandId,
    fingerprint: envelope.fingerprint,
    issuedAtMs: envelope.issuedAtMs,
    decidedAtMs: envelope.atMs,
  };
  switch (outcome.type) {
    case "AccountCreationConfirmed":
      return { ...base, status: "CONFIRMED", result: { accountId: outcome.accountId, iban: outcome.iban } };
    case "MoneyTransferConfirmed":
      return {
        ...base,
        status: "CONFIRMED",
        result: {
          transferId: outcome.transferId,
          phase: outcome.phase,
          ...(outcome.reviewId === undefined ? {} : { reviewId: outcome.reviewId }),
        },
      };
    case "AccountCreationFailed":
    case "MoneyTransferFailed":
      return { ...base, status: "FAILED", reason: outcome.reason, result: {} };
  }
}

type Listener<T> = (value: T) => void;

export class LedgerNotifications {
  readonly #waiters = new Map<string, Set<Listener<CommandResult>>>();
  readonly #outcomeListeners = new Set<Listener<CommandResult>>();
  readonly #balanceListeners = new Set<Listener<BalanceChanged>>();

  /** Resolves with the outcome of `commandId`, or undefined after `timeoutMs`. Register before submitting. */
  waitFor(
    commandId: string,
    timeoutMs: number,
  ): { promise: Promise<CommandResult | undefined>; cancel(): void } {
    let cancel = () => {};
    const promise = new Promise<CommandResult | undefined>((resolve) => {
      const waiters = this.#waiters.get(commandId) ?? new Set();
      this.#waiters.set(commandId, waiters);
      const done = (result: CommandResult | undefined) => {
        clearTimeout(timer);
        waiters.delete(listener);
        if (waiters.size === 0) this.#waiters.delete(commandId);
        resolve(result);
      };
      const listener: Listener<CommandResult> = (result) => done(result);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      waiters.add(listener);
      cancel = () => done(undefined);
    });
    return { promise, cancel };
  }

  deliverOutcome(result: CommandResult): void {
    const waiters = this.#waiters.get(result.commandId);
    if (waiters) for (const listener of [...waiters]) listener(result);
    for (const listener of this.#outcomeListeners) listener(result);
  }

  deliverBalanceChanged(event: BalanceChanged): void {
    for (const listener of this.#balanceListeners) listener(event);
  }

  onOutcome(listener: Listener<CommandResult>): () => void {
    this.#outcomeListeners.add(listener);
    return () => this.#outcomeListeners.delete(listener);
  }

  onBalanceChanged(listener: Listener<BalanceChanged>): () => void {
    this.#balanceListeners.add(listener);
    return () => this.#balanceListeners.delete(listener);
  }

  /** Whether anyone listens to balance changes (the notifier skips decoding them otherwise). */
  get hasBalanceListeners(): boolean {
    return this.#balanceListeners.size > 0;
  }

  get waitingCount(): number {
    return this.#waiters.size;
  }
}
