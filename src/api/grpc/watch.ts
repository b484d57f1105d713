/**
 * The fan-out behind WatchClient: one pair of listeners on the ledger's notifier per process (attached
 * while anyone watches), each event looked up once and handed to the watchers of the client it
 * concerns. An outcome belongs to the user who issued the command; a balance change to the account's
 * owner. Events are dispatched one after another, so a watcher sees them in the order the notifier
 * delivered them; a backlog over `queuedMax` (the database not answering) ends every watch.
 */
import type { BalanceChanged, CommandResult, LedgerApi } from "../../ledger/index.ts";

export type WatchedEvent =
  | { readonly kind: "outcome"; readonly result: CommandResult }
  | { readonly kind: "balance"; readonly event: BalanceChanged };

export interface Watcher {
  deliver(event: WatchedEvent): void;
  /** The hub cannot keep up: the watch ends (rate_limited) and the caller may watch again. */
  overflow(): void;
}

export interface ClientWatchHub {
  watch(clientId: string, watcher: Watcher): () => void;
  readonly watchersCount: number;
}

export function createClientWatchHub(
  ledger: Pick<LedgerApi, "queries" | "notifications">,
  options: { readonly queuedMax: number; readonly onError: (error: unknown) => void },
): ClientWatchHub {
  const watchers = new Map<string, Set<Watcher>>();
  let count = 0;
  let detach: (() => void) | undefined;
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;

  const dispatch = async (event: WatchedEvent) => {
    const clientId =
      event.kind === "outcome"
        ? (await ledger.queries.outcome(event.result.commandId))?.actorId
        : await ledger.queries.ownerOfIban(event.event.iban);
    if (clientId === undefined) return;
    for (const watcher of watchers.get(clientId) ?? []) watcher.deliver(event);
  };
  const enqueue = (event: WatchedEvent) => {
    if (queued >= options.queuedMax) {
      for (const set of watchers.values()) for (const watcher of set) watcher.overflow();
      return;
    }
    queued++;
    chain = chain
      .then(() => dispatch(event))
      .catch(options.onError)
      .finally(() => {
        queued--;
      });
  };
  const attach = () => {
    const offOutcome = ledger.notifications.onOutcome((result) => enqueue({ kind: "outcome", result }));
    const offBalance = ledger.notifications.onBalanceChanged((event) => enqueue({ kind: "balance", event }));
    return () => {
      offOutcome();
      offBalance();
    };
  };

  return {
    watch(clientId, watcher) {
      const set = watchers.get(clientId) ?? new Set();
      watchers.set(clientId, set);
      set.add(watcher);
      count++;
      detach ??= attach();
      let watching = true;
      return () => {
        if (!watching) return;
        watching = false;
        set.delete(watcher);
        if (set.size === 0) watchers.delete(clientId);
        count--;
        if (count === 0) {
          detach?.();
          detach = undefined;
        }
      };
    },
    get watchersCount() {
      return count;
    },
  };
}
