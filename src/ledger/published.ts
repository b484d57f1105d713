/**
 * The ledger's published interface: what other contexts and edges use (through index.ts only).
 * Commands go in with `submit`; their outcomes come back from `submit` (when waiting), from
 * `waitForOutcome`, or pushed to `onOutcome` listeners; reads go through `queries`.
 */
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import type { Submission } from "./command-gateway.ts";
import type { LedgerCommandService } from "./command-service.ts";
import type { LedgerCommand } from "./domain/types.ts";
import type { LiveStats } from "./live-stats.ts";
import type { CommandResult, LedgerNotifications } from "./notifications.ts";
import type { LedgerQueries } from "./queries.ts";

export interface LedgerApi {
  /** Appends a command (durable once resolved) and, when `waitMs` > 0, waits that long for its outcome. */
  submit(command: LedgerCommand, waitMs: number): Promise<Submission>;
  /** Appends many commands in one produce call; outcomes arrive through `waitForOutcome`/`onOutcome`. */
  submitMany(commands: readonly LedgerCommand[]): Promise<void>;
  /** The outcome of `commandId` when it arrives within `waitMs`, else undefined. Register before submitting. */
  waitForOutcome(
    commandId: string,
    waitMs: number,
  ): { promise: Promise<CommandResult | undefined>; cancel(): void };
  /** Every outcome this process learns of (needs a notifier in the process's role). */
  onOutcome(listener: (result: CommandResult) => void): () => void;
  readonly queries: LedgerQueries;
  /** Outcome and balance-change subscriptions (GraphQL, WebSocket). */
  readonly notifications: LedgerNotifications;
  /** IBAN of the system account `name` holds in `asset`, opened on first use. */
  systemAccountIban(name: string, asset: string): Promise<string>;
  /** Codecs of the ledger's published topics (consumers of outcomes decode with these). */
  readonly codecs: {
    readonly commands: TopicCodec;
    readonly outcomes: TopicCodec;
    readonly balanceChanged: TopicCodec;
  };
  /** The command service every edge calls (REST, GraphQL, gRPC): validation, authorization,
   * idempotency and outcome of opening accounts, transfers, batches and branch operations. */
  readonly commands: LedgerCommandService;
  readonly liveStats: LiveStats;
}
