/** The payments context's part of the one configuration schema: processing, simulators, alerts. */
import { z } from "zod";
import { commaSeparated, flag, positiveInt } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";

const urlList = commaSeparated.pipe(z.array(z.string().url()));

export const paymentsConfig = {
  sections: {
    payments: z.object({
      /**
       * Start the simulated gateway fleet in-process and register it (a dev tool). Unset: on in
       * embedded mode (so the quick start moves money), off in distributed mode.
       */
      simulateGateways: flag.optional(),
      /** Base URL gateways call back on; default: this server's address (processes that serve HTTP). */
      publicUrl: z.string().url().optional(),
      /** How long a payment step waits for the ledger's outcome before trying again later. */
      ledgerWaitMs: positiveInt.default(10_000),
      /** Payment commands the processor takes per fetch. */
      processorBatchSizeMax: positiveInt.max(10_000).default(500),
      processorFetchWaitMaxMs: positiveInt.default(20),
      /** Payment outbox rows per publish, and how often its relay looks when not woken. */
      relayRowsPerPublishMax: positiveInt.max(10_000).default(256),
      relayPollIntervalMs: positiveInt.default(50),
      /**
       * A waiting request learns of completion pushed from this process's driver; a payment driven
       * by another process is looked up this often.
       */
      completionCheckIntervalMs: positiveInt.default(1_000),
    }),
    alerts: z.object({
      /** Gateway alerts of one gateway and kind are sent at most once per this window. */
      quietMs: z.coerce.number().int().min(0).default(60_000),
      /** `smtp://user:pass@host:port` (or smtps://); e-mail alerts are off when unset. */
      smtpUrl: z.string().url().optional(),
      emailFrom: z.string().min(3).default("ledgerflow@localhost"),
      emailTo: z.string().min(3).optional(),
      /** Comma-separated URLs that receive each alert as signed JSON. */
      webhookUrls: urlList.optional(),
      /** HMAC-SHA256 key for the `x-ledgerflow-signature` header of webhook alerts. */
      webhookSecret: z.string().min(16).optional(),
      webhookTimeoutMs: positiveInt.default(5_000),
      /** SMS through an HTTP provider: POST {to, text} as JSON, bearer token if given. */
      smsUrl: z.string().url().optional(),
      smsToken: z.string().min(8).optional(),
      /** Comma-separated phone numbers (E.164). */
      smsTo: z
        .string()
        .regex(/^\+[0-9]{6,15}(,\+[0-9]{6,15})*$/, "expected +E164[,+E164…]")
        .optional(),
    }),
  },
  env: {
    LEDGERFLOW_SIMULATE_GATEWAYS: ["payments", "simulateGateways"],
    LEDGERFLOW_PUBLIC_URL: ["payments", "publicUrl"],
    LEDGERFLOW_PAYMENTS_LEDGER_WAIT_MS: ["payments", "ledgerWaitMs"],
    LEDGERFLOW_PAYMENTS_BATCH_SIZE_MAX: ["payments", "processorBatchSizeMax"],
    LEDGERFLOW_ALERTS_QUIET_MS: ["alerts", "quietMs"],
    LEDGERFLOW_ALERTS_SMTP_URL: ["alerts", "smtpUrl"],
    LEDGERFLOW_ALERTS_EMAIL_FROM: ["alerts", "emailFrom"],
    LEDGERFLOW_ALERTS_EMAIL_TO: ["alerts", "emailTo"],
    LEDGERFLOW_ALERTS_WEBHOOK_URLS: ["alerts", "webhookUrls"],
    LEDGERFLOW_ALERTS_WEBHOOK_SECRET: ["alerts", "webhookSecret"],
    LEDGERFLOW_ALERTS_SMS_URL: ["alerts", "smsUrl"],
    LEDGERFLOW_ALERTS_SMS_TOKEN: ["alerts", "smsToken"],
    LEDGERFLOW_ALERTS_SMS_TO: ["alerts", "smsTo"],
  },
} as const satisfies ConfigSection;

export type PaymentsConfig = z.infer<typeof paymentsConfig.sections.payments>;
export type AlertsConfig = z.infer<typeof paymentsConfig.sections.alerts>;
