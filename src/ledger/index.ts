/**
 * The ledger context's only door. Other contexts and edges use the ledger through what is exported
 * here: its module, the published interface (submit, wait for outcomes, queries, the command service
 * every edge calls), the command and
 * event types it publishes, and the input vocabulary its edges share (amounts, IBANs, assets).
 */
export type { Submission } from "./command-gateway.ts";
export { fingerprintOf } from "./command-gateway.ts";
export type {
  AccountOpening,
  BatchItemOutcome,
  CommandOutcome,
  CommandStatusView,
  LedgerCommandService,
} from "./command-service.ts";
export { ledgerConfig } from "./config.ts";
export { parsePositiveAmount } from "./domain/money.ts";
export type { AccountState, BalanceChanged, LedgerCommand, TransferKind } from "./domain/types.ts";
export { accountView, reasonText, visibleAccount } from "./http/common.ts";
export { visibleHold } from "./http/holds.ts";
export {
  amountInput,
  amountOrFail,
  assetCode,
  branchKey,
  branchNameInput,
  holdInput,
  ibanInput,
  ibanOrFail,
  type OpenAccountInput,
  type OperationInput,
  openAccountInput,
  operationInput,
  postHoldInput,
  type TransferInput,
  transferInput,
  voidHoldInput,
} from "./inputs.ts";
export { type LedgerDeps, ledgerModule } from "./module.ts";
export type { CommandResult, CommandStatus } from "./notifications.ts";
export type { LedgerApi } from "./published.ts";
export { createLedgerQueries, type HistoryItem, type LatestTransfer, type LedgerQueries } from "./queries.ts";
export { outcomeFromAvro, type PublishedOutcome, type PublishedOutcomeEnvelope } from "./schemas.ts";
export {
  type CommandScreening,
  noScreening,
  type ScreeningRequest,
  type ScreeningTransaction,
  type ScreeningVerdict,
} from "./screening.ts";
export { systemOwnerPrefix } from "./system-accounts.ts";
export { ledgerTopics } from "./topics.ts";
