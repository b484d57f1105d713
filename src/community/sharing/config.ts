/**
 * Social posting settings, for the community context's config section (src/community/config.ts
 * merges `socialSettings` and `socialEnv`). Real networks (or a Zapier-style relay in front of
 * them) are configured by URL; each receives the same signed JSON. The signing secret has no
 * default and is never logged. No URL: sharing still makes the card, nothing is posted.
 */
import { z } from "zod";
import { ConfigError, commaSeparated, positiveInt } from "../../platform/config.ts";

/** "https://a,https://b" from the environment, or an array from code. */
const urlList = commaSeparated.pipe(z.array(z.url({ protocol: /^https?$/ })).max(10));

export const socialSettings = {
  /** Webhook URLs a shared connection is posted to (one signed POST each). */
  socialWebhookUrls: urlList.default([]),
  /** HMAC-SHA256 key for the signature header. A secret: no default, never logged. */
  socialWebhookSecret: z.string().min(16).max(1_024).optional(),
  /** Bound on one POST to a webhook. */
  socialTimeoutMs: positiveInt.max(60_000).default(5_000),
  /** Attempts per webhook before the posting is recorded as failed. */
  socialAttemptsMax: positiveInt.max(20).default(5),
  /** Backoff between attempts: base doubling up to max. */
  socialBackoffBaseMs: positiveInt.max(3_600_000).default(2_000),
  socialBackoffMaxMs: positiveInt.max(86_400_000).default(300_000),
  /** How often the poster looks for due postings when not woken. */
  socialPollIntervalMs: positiveInt.max(600_000).default(1_000),
  /** The public origin the card URL in a posting starts with (else the URL is a path). */
  socialCardBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
};

export const socialEnv = {
  LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_URLS: ["community", "socialWebhookUrls"],
  LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_SECRET: ["community", "socialWebhookSecret"],
  LEDGERFLOW_COMMUNITY_SOCIAL_TIMEOUT_MS: ["community", "socialTimeoutMs"],
  LEDGERFLOW_COMMUNITY_SOCIAL_ATTEMPTS_MAX: ["community", "socialAttemptsMax"],
  LEDGERFLOW_COMMUNITY_SOCIAL_BACKOFF_BASE_MS: ["community", "socialBackoffBaseMs"],
  LEDGERFLOW_COMMUNITY_SOCIAL_BACKOFF_MAX_MS: ["community", "socialBackoffMaxMs"],
  LEDGERFLOW_COMMUNITY_SOCIAL_POLL_INTERVAL_MS: ["community", "socialPollIntervalMs"],
  LEDGERFLOW_COMMUNITY_SOCIAL_CARD_BASE_URL: ["community", "socialCardBaseUrl"],
} as const;

export const socialSettingsSchema = z.object(socialSettings);
export type SocialSettings = z.infer<typeof socialSettingsSchema>;

export interface WebhookSettings {
  readonly urls: readonly string[];
  readonly secret: string;
}

/** The webhooks when URLs are set (then the secret is required); undefined when none is. */
export function webhooksOf(settings: SocialSettings): WebhookSettings | undefined {
  if (settings.socialWebhookUrls.length === 0) return undefined;
  if (settings.socialWebhookSecret === undefined)
    throw new ConfigError(
      "LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_URLS needs LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_SECRET",
    );
  return { urls: settings.socialWebhookUrls, secret: settings.socialWebhookSecret };
}
