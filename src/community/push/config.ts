/**
 * Web Push settings, for the community context's config section (src/community/config.ts merges
 * `pushSettings` and `pushEnv`). The VAPID key pair is a secret: no defaults, never logged; without
 * it Web Push is off (`vapidOf` answers undefined). `npx web-push generate-vapid-keys` makes a pair.
 */
import { z } from "zod";
import { ConfigError, positiveInt } from "../../platform/config.ts";

const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "base64url")
    .refine((text) => Buffer.from(text, "base64url").length === bytes, `${bytes} bytes, base64url`);

export const pushSettings = {
  /** Who runs this server, for push services to contact: `mailto:` or an `https:` URL (VAPID `sub`). */
  pushVapidSubject: z
    .string()
    .regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/, "a mailto: address or an https: URL")
    .optional(),
  /** The VAPID public key (uncompressed P-256 point); the PWA subscribes with it. */
  pushVapidPublicKey: base64url(65).optional(),
  /** The VAPID private key (32 bytes). A secret: no default, never logged. */
  pushVapidPrivateKey: base64url(32).optional(),
  /** How long a push service keeps a message for an offline device. */
  pushTtlS: positiveInt.max(2_419_200).default(900),
  /** Bound on one request to a push service. */
  pushTimeoutMs: positiveInt.max(60_000).default(10_000),
};

export const pushEnv = {
  LEDGERFLOW_COMMUNITY_PUSH_VAPID_SUBJECT: ["community", "pushVapidSubject"],
  LEDGERFLOW_COMMUNITY_PUSH_VAPID_PUBLIC_KEY: ["community", "pushVapidPublicKey"],
  LEDGERFLOW_COMMUNITY_PUSH_VAPID_PRIVATE_KEY: ["community", "pushVapidPrivateKey"],
  LEDGERFLOW_COMMUNITY_PUSH_TTL_S: ["community", "pushTtlS"],
  LEDGERFLOW_COMMUNITY_PUSH_TIMEOUT_MS: ["community", "pushTimeoutMs"],
} as const;

export const pushSettingsSchema = z.object(pushSettings);
export type PushSettings = z.infer<typeof pushSettingsSchema>;

export interface VapidKeys {
  readonly subject: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/** The VAPID keys when all three are set; undefined (Web Push off) when none is; an error when some are. */
export function vapidOf(settings: PushSettings): VapidKeys | undefined {
  const {
    pushVapidSubject: subject,
    pushVapidPublicKey: publicKey,
    pushVapidPrivateKey: privateKey,
  } = settings;
  if (subject === undefined && publicKey === undefined && privateKey === undefined) return undefined;
  if (subject === undefined || publicKey === undefined || privateKey === undefined)
    throw new ConfigError(
      "Web Push needs all of LEDGERFLOW_COMMUNITY_PUSH_VAPID_SUBJECT, _PUBLIC_KEY and _PRIVATE_KEY",
    );
  return { subject, publicKey, privateKey };
}
