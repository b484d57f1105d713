/**
 * Passkeys (`passkeys` section). The relying party (RP ID and origin) is not configured here: it is
 * LEDGERFLOW_PUBLIC_URL's host and origin, or, when that is unset, the request's host if it is
 * loopback (development). README "Passkeys".
 */
import { z } from "zod";
import { positiveInt } from "../../platform/config.ts";

export const passkeysConfig = {
  sections: {
    passkeys: z.object({
      /** The name browsers show for this site while creating a passkey. */
      rpName: z.string().min(1).max(64).default("Ledgerflow"),
      /** How long a challenge handed out for a ceremony can be answered (once). */
      challengeTtlMs: positiveInt.max(10 * 60 * 1000).default(2 * 60 * 1000),
      /**
       * Challenges alive at once (sign-in options are anonymous: this bounds what a flood of them
       * can store); beyond it new ones are refused with 503 busy until some expire or are used.
       */
      challengesLiveMax: positiveInt.max(10_000_000).default(100_000),
      /** Passkeys one user may register. */
      perUserMax: positiveInt.max(100).default(10),
      /**
       * Transfers of at least this amount (per asset, minor units as decimal strings, JSON from the
       * environment: {"EUR":"100000"}) need a fresh passkey assertion; an asset not named, or the
       * whole setting unset, needs none.
       */
      stepUpAmountMin: z
        .preprocess(jsonText, z.record(z.string().regex(/^[A-Z]{3,12}$/), z.string().regex(/^[0-9]{1,30}$/)))
        .optional(),
    }),
  },
  env: {
    LEDGERFLOW_PASSKEY_RP_NAME: ["passkeys", "rpName"],
    LEDGERFLOW_PASSKEY_CHALLENGE_TTL_MS: ["passkeys", "challengeTtlMs"],
    LEDGERFLOW_PASSKEYS_PER_USER_MAX: ["passkeys", "perUserMax"],
    LEDGERFLOW_PASSKEY_CHALLENGES_LIVE_MAX: ["passkeys", "challengesLiveMax"],
    LEDGERFLOW_STEP_UP_AMOUNT_MIN: ["passkeys", "stepUpAmountMin"],
  },
} as const;

export type PasskeysConfig = z.infer<typeof passkeysConfig.sections.passkeys>;

/** A JSON text (from the environment) parsed before validation; what does not parse fails as itself. */
function jsonText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
