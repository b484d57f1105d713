/** The ledger's part of the one configuration schema: the command handler and the ledger itself. */
import { z } from "zod";
import { positiveInt } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";

export const ledgerConfig = {
  sections: {
    handler: z.object({
      batchSizeMax: positiveInt.max(20_000).default(8_000),
      fetchWaitMaxMs: positiveInt.default(50),
      /**
       * Kafka only: bytes a handler's fetch waits for (up to fetchWaitMaxMs), so batches fill up.
       * 16 KiB (≈60 commands) cut PostgreSQL's CPU per transfer by ≈25% and raised the peak with
       * 3 handlers (docs/performance.md); 1 answers every fetch at once.
       */
      fetchBytesMin: positiveInt.max(1_048_576).default(16_384),
      retryAttemptsMax: positiveInt.default(8),
      retryBackoffBaseMs: positiveInt.default(50),
      retryBackoffMaxMs: positiveInt.default(5_000),
      pendingSweepIntervalMs: positiveInt.default(1_000),
      pendingSweepBatchSizeMax: positiveInt.max(100_000).default(1_000),
      /** Outcomes and balance changes a notifier takes per fetch. */
      notifierBatchSizeMax: positiveInt.max(100_000).default(10_000),
      /** Kafka mode: outbox rows per publish, and how often the relay looks when not woken. */
      relayRowsPerPublishMax: positiveInt.max(10_000).default(64),
      relayPollIntervalMs: positiveInt.default(100),
      /**
       * A partition of the handlers' group whose committed offset trails the log end without moving
       * this long is logged as stalled and flagged in `ledgerflow_log_partition_stalled`.
       */
      stallAfterMs: positiveInt.min(1_000).max(3_600_000).default(30_000),
      /** How often the stall watchdog reads the group's committed offsets and the log ends. */
      stallCheckIntervalMs: positiveInt.min(100).max(600_000).default(5_000),
    }),
    ledger: z.object({
      ibanCountry: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .default("NL"),
      ibanBankCode: z
        .string()
        .regex(/^[A-Z]{4}$/)
        .default("OPEN"),
      transfersPerBatchMax: positiveInt.max(8_000).default(8_000),
      /** Accepted commands remembered for `GET /v1/commands/{id}` before their outcome. */
      acceptedRememberedMax: positiveInt.default(100_000),
      /** Longest a client's hold may stay pending before it is voided as expired (default 30 days). */
      holdTimeoutMsMax: positiveInt.default(2_592_000_000),
      /** Seconds of live throughput/latency kept for the dashboard. */
      liveStatsWindowS: positiveInt.max(86_400).default(300),
    }),
  },
  env: {
    LEDGERFLOW_HANDLER_BATCH_SIZE_MAX: ["handler", "batchSizeMax"],
    LEDGERFLOW_HANDLER_FETCH_WAIT_MAX_MS: ["handler", "fetchWaitMaxMs"],
    LEDGERFLOW_HANDLER_FETCH_BYTES_MIN: ["handler", "fetchBytesMin"],
    LEDGERFLOW_HANDLER_RETRY_ATTEMPTS_MAX: ["handler", "retryAttemptsMax"],
    LEDGERFLOW_HANDLER_PENDING_SWEEP_INTERVAL_MS: ["handler", "pendingSweepIntervalMs"],
    LEDGERFLOW_HANDLER_STALL_AFTER_MS: ["handler", "stallAfterMs"],
    LEDGERFLOW_HANDLER_STALL_CHECK_INTERVAL_MS: ["handler", "stallCheckIntervalMs"],
    LEDGERFLOW_IBAN_COUNTRY: ["ledger", "ibanCountry"],
    LEDGERFLOW_IBAN_BANK_CODE: ["ledger", "ibanBankCode"],
    LEDGERFLOW_LEDGER_TRANSFERS_PER_BATCH_MAX: ["ledger", "transfersPerBatchMax"],
    LEDGERFLOW_LEDGER_HOLD_TIMEOUT_MS_MAX: ["ledger", "holdTimeoutMsMax"],
  },
} as const satisfies ConfigSection;

export type LedgerConfig = {
  readonly handler: z.infer<typeof ledgerConfig.sections.handler>;
  readonly ledger: z.infer<typeof ledgerConfig.sections.ledger>;
  readonly http: { readonly waitMsMax: number };
};
