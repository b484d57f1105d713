/** The risk context's part of the one configuration schema: screening lists, the feeder, screening. */
import { z } from "zod";
import { positiveInt } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";
import { listFormats } from "./list-file.ts";
import { type S3Settings, s3LocationOf } from "./s3-source.ts";

export const listName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/);

const minorUnits = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, "an amount in minor units, as a decimal string")
  .transform((value) => BigInt(value));

/** Screening rules (domain/rules.ts), declared as JSON in LEDGERFLOW_RISK_RULES or the config file. */
const screeningRule = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("velocity"),
    transfersMax: positiveInt.max(10_000),
    windowMs: positiveInt.max(31 * 86_400_000),
  }),
  z.strictObject({
    kind: z.literal("first_counterparty_amount"),
    amountsOver: z.record(z.string().regex(/^[A-Z]{3}$/), minorUnits),
  }),
]);

/** A JSON text (from the environment) parsed before validation; what does not parse fails as itself. */
function jsonText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export const riskConfig = {
  sections: {
    risk: z.object({
      /** How often a screening process looks for a new list version (loads by other processes). */
      refreshIntervalMs: positiveInt.default(1_000),
      /** Jaro–Winkler similarity of normalised names at or above which a party is held for review. */
      reviewThreshold: z.coerce.number().min(0.5).max(1).default(0.92),
      /** How long a transfer held for review stays reserved before the ledger's sweeper voids it. */
      reviewTimeoutMs: positiveInt.max(30 * 86_400_000).default(86_400_000),
      /** Rules that hold a transfer for review (velocity, amount to a first-time counterparty). */
      rules: z.preprocess(jsonText, z.array(screeningRule).max(20)).default([]),
      /** Largest page of GET /v1/risk/reviews. */
      reviewsPageSizeMax: positiveInt.max(500).default(100),
      /** The scheduled feeder: a file path, an http(s) URL or `s3://bucket/key`; off when unset. */
      feedSource: z
        .string()
        .min(1)
        .refine((text) => !/^s3:/i.test(text) || s3LocationOf(text) !== undefined, "expected s3://bucket/key")
        .optional(),
      feedList: listName.default("fraud"),
      /** Inferred from the source's name when unset (.csv: csv; sdn*.csv: ofac; else lines). */
      feedFormat: z.enum(listFormats).optional(),
      feedIntervalMs: positiveInt.default(3_600_000),
      fetchTimeoutMs: positiveInt.default(30_000),
      fileBytesMax: positiveInt.default(256 * 1024 * 1024),
      entriesMax: positiveInt.default(5_000_000),
      lineBytesMax: positiveInt.max(1_048_576).default(65_536),
      /** An S3-compatible server for `s3://` sources (addressed path-style); AWS's S3 when unset. */
      s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** When unset: the SDK's (AWS_REGION, the profile), or us-east-1 with an s3Endpoint. */
      s3Region: z
        .string()
        .regex(/^[a-z0-9-]{1,32}$/)
        .optional(),
      s3AttemptsMax: positiveInt.max(10).default(3),
      /**
       * Screening names (identity's profiles) cached per screening process, so a batch does not wait
       * for an identity query (party-names-cache.ts); 0 turns the cache off. Changed profiles are
       * evicted by a poll every `partyNamesPollIntervalMs`; this bounds an entry's age whatever polls say.
       */
      partyNamesCacheTtlMs: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
      partyNamesCacheEntriesMax: positiveInt.max(10_000_000).default(200_000),
      partyNamesPollIntervalMs: positiveInt.max(60_000).default(1_000),
    }),
  },
  env: {
    LEDGERFLOW_RISK_REFRESH_INTERVAL_MS: ["risk", "refreshIntervalMs"],
    LEDGERFLOW_RISK_REVIEW_THRESHOLD: ["risk", "reviewThreshold"],
    LEDGERFLOW_RISK_REVIEW_TIMEOUT_MS: ["risk", "reviewTimeoutMs"],
    LEDGERFLOW_RISK_RULES: ["risk", "rules"],
    LEDGERFLOW_RISK_FEED_SOURCE: ["risk", "feedSource"],
    LEDGERFLOW_RISK_FEED_LIST: ["risk", "feedList"],
    LEDGERFLOW_RISK_FEED_FORMAT: ["risk", "feedFormat"],
    LEDGERFLOW_RISK_FEED_INTERVAL_MS: ["risk", "feedIntervalMs"],
    LEDGERFLOW_RISK_FETCH_TIMEOUT_MS: ["risk", "fetchTimeoutMs"],
    LEDGERFLOW_RISK_FILE_BYTES_MAX: ["risk", "fileBytesMax"],
    LEDGERFLOW_RISK_ENTRIES_MAX: ["risk", "entriesMax"],
    LEDGERFLOW_RISK_LINE_BYTES_MAX: ["risk", "lineBytesMax"],
    LEDGERFLOW_RISK_S3_ENDPOINT: ["risk", "s3Endpoint"],
    LEDGERFLOW_RISK_S3_REGION: ["risk", "s3Region"],
    LEDGERFLOW_RISK_S3_ATTEMPTS_MAX: ["risk", "s3AttemptsMax"],
    LEDGERFLOW_RISK_PARTY_NAMES_CACHE_TTL_MS: ["risk", "partyNamesCacheTtlMs"],
    LEDGERFLOW_RISK_PARTY_NAMES_CACHE_ENTRIES_MAX: ["risk", "partyNamesCacheEntriesMax"],
    LEDGERFLOW_RISK_PARTY_NAMES_POLL_INTERVAL_MS: ["risk", "partyNamesPollIntervalMs"],
  },
} as const satisfies ConfigSection;

export type RiskConfig = z.infer<typeof riskConfig.sections.risk>;

/** The S3 settings of the feeder, from the risk config. */
export function s3SettingsOf(config: RiskConfig): S3Settings {
  return {
    region: config.s3Region,
    endpoint: config.s3Endpoint,
    forcePathStyle: config.s3Endpoint !== undefined,
    attemptsMax: config.s3AttemptsMax,
  };
}
