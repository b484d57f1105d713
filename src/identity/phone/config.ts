/**
 * Phone verification (`phone`) and the SMS port (`sms`) configuration sections. README "Phone
 * verification and SMS".
 */
import { z } from "zod";
import { positiveInt } from "../../platform/config.ts";

export const phoneConfig = {
  sections: {
    phone: z.object({
      /** How long a sent code can be used. */
      codeTtlMs: positiveInt.max(60 * 60 * 1000).default(10 * 60 * 1000),
      /** Wrong codes per sent code; the code is burned when they are used up. */
      attemptsMax: positiveInt.max(20).default(5),
      /** Codes sent to one user per window (sends and resends alike). */
      sendsMax: positiveInt.max(100).default(3),
      sendsWindowMs: positiveInt.default(60 * 60 * 1000),
      /** Numbers typed without +country are read in this country (ISO 3166 alpha-2), e.g. NL. */
      defaultCountry: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .optional(),
    }),
    sms: z.object({
      /**
       * `dev`: a sink that logs each code (and, in embedded mode, shows it in the web app); `http`:
       * a JSON POST to `url` with the bearer `secret`. Unset: `dev` in embedded mode, none (phone
       * verification answers 503) in distributed mode.
       */
      provider: z.enum(["dev", "http"]).optional(),
      url: z.string().url().optional(),
      /** Bearer secret of the SMS provider. A secret: no default, never logged. */
      secret: z.string().min(16).optional(),
      timeoutMs: positiveInt.max(60_000).default(10_000),
    }),
  },
  env: {
    LEDGERFLOW_PHONE_CODE_TTL_MS: ["phone", "codeTtlMs"],
    LEDGERFLOW_PHONE_ATTEMPTS_MAX: ["phone", "attemptsMax"],
    LEDGERFLOW_PHONE_SENDS_MAX: ["phone", "sendsMax"],
    LEDGERFLOW_PHONE_SENDS_WINDOW_MS: ["phone", "sendsWindowMs"],
    LEDGERFLOW_PHONE_DEFAULT_COUNTRY: ["phone", "defaultCountry"],
    LEDGERFLOW_SMS_PROVIDER: ["sms", "provider"],
    LEDGERFLOW_SMS_URL: ["sms", "url"],
    LEDGERFLOW_SMS_SECRET: ["sms", "secret"],
    LEDGERFLOW_SMS_TIMEOUT_MS: ["sms", "timeoutMs"],
  },
} as const;

export type PhoneConfig = z.infer<typeof phoneConfig.sections.phone>;
export type SmsConfig = z.infer<typeof phoneConfig.sections.sms>;
