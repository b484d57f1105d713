/**
 * Phone verification, the step that completes registration (seed 002, "Identity and Access
 * Manager"): a six-digit code sent through the SMS port, valid for `codeTtlMs`, `attemptsMax` wrong
 * guesses before it is burned, `sendsMax` codes per `sendsWindowMs`, one account per number.
 * Changing the number verifies the new one; the old one stays the user's until then.
 */
import type { Clock, Random } from "../../platform/clock.ts";
import type { AuthAudit } from "../oidc/audit.ts";
import { codeMatches, drawCode, hashCode, normalisePhone } from "./codes.ts";
import type { PhoneConfig } from "./config.ts";
import type { SmsSender } from "./sms.ts";
import type { PhoneStore } from "./store.ts";

export type StartResult =
  | {
      readonly ok: true;
      readonly status: "code_sent";
      readonly phoneNumber: string;
      readonly expiresInS: number;
    }
  | { readonly ok: true; readonly status: "verified"; readonly phoneNumber: string }
  | { readonly ok: false; readonly code: "phone_invalid" }
  | { readonly ok: false; readonly code: "phone_taken" }
  | { readonly ok: false; readonly code: "rate_limited"; readonly retryAfterS: number };

export type VerifyResult =
  | { readonly ok: true; readonly phoneNumber: string }
  | { readonly ok: false; readonly code: "otp_invalid"; readonly attemptsLeft: number }
  | { readonly ok: false; readonly code: "otp_expired" }
  | { readonly ok: false; readonly code: "phone_taken" };

export interface PhoneStatus {
  readonly phoneNumber: string | undefined;
  readonly verified: boolean;
  readonly pending:
    | { readonly phoneNumber: string; readonly expiresAtMs: number; readonly attemptsLeft: number }
    | undefined;
}

export interface PhoneVerification {
  status(userId: string): Promise<PhoneStatus>;
  start(userId: string, phoneNumber: string, clientIp: string): Promise<StartResult>;
  verify(userId: string, code: string, clientIp: string): Promise<VerifyResult>;
  /** The number of the caller's pending verification, if any (for the development sink's code). */
  pendingPhoneOf(userId: string): Promise<string | undefined>;
}

export interface PhoneVerificationDeps {
  readonly config: PhoneConfig;
  readonly store: PhoneStore;
  readonly sms: SmsSender;
  readonly codeKey: Buffer;
  readonly audit: AuthAudit;
  readonly clock: Clock;
  readonly random: Random;
}

export function createPhoneVerification(deps: PhoneVerificationDeps): PhoneVerification {
  return {
    status: (userId) => statusOf(deps, userId),
    start: (userId, phoneNumber, clientIp) => start(deps, userId, phoneNumber, clientIp),
    verify: (userId, code, clientIp) => verify(deps, userId, code, clientIp),
    async pendingPhoneOf(userId) {
      const pending = await deps.store.challengeOf(userId);
      return pending?.live === true && pending.expiresAtMs > deps.clock.nowMs()
        ? pending.phoneE164
        : undefined;
    },
  };
}

async function statusOf(deps: PhoneVerificationDeps, userId: string): Promise<PhoneStatus> {
  const verified = await deps.store.verifiedPhoneOf(userId);
  const pending = await deps.store.challengeOf(userId);
  const live = pending?.live === true && pending.expiresAtMs > deps.clock.nowMs();
  return {
    phoneNumber: verified,
    verified: verified !== undefined,
    pending:
      live && pending
        ? {
            phoneNumber: pending.phoneE164,
            expiresAtMs: pending.expiresAtMs,
            attemptsLeft: deps.config.attemptsMax - pending.attempts,
          }
        : undefined,
  };
}

/** The sends window after one more send, or how long to wait when it is used up. */
async function nextSend(
  deps: PhoneVerificationDeps,
  userId: string,
): Promise<{ sends: number; windowStartMs: number } | { retryAfterS: number }> {
  const { config } = deps;
  const now = deps.clock.nowMs();
  const pending = await deps.store.challengeOf(userId);
  if (pending === undefined || now - pending.sendsWindowStartedAtMs >= config.sendsWindowMs)
    return { sends: 1, windowStartMs: now };
  if (pending.sends >= config.sendsMax)
    return { retryAfterS: Math.ceil((pending.sendsWindowStartedAtMs + config.sendsWindowMs - now) / 1000) };
  return { sends: pending.sends + 1, windowStartMs: pending.sendsWindowStartedAtMs };
}

async function start(
  deps: PhoneVerificationDeps,
  userId: string,
  phoneNumber: string,
  clientIp: string,
): Promise<StartResult> {
  const { config, store, audit } = deps;
  const phoneE164 = normalisePhone(phoneNumber, config.defaultCountry);
  if (phoneE164 === undefined) return { ok: false, code: "phone_invalid" };
  if ((await store.verifiedPhoneOf(userId)) === phoneE164)
    return { ok: true, status: "verified", phoneNumber: phoneE164 };
  const refused = (reason: string) =>
    audit.record({ kind: "phone.start", outcome: "refused", userId, reason, clientIp });
  if ((await store.ownerOf(phoneE164)) !== undefined) {
    await refused("phone_taken");
    return { ok: false, code: "phone_taken" };
  }
  const send = await nextSend(deps, userId);
  if ("retryAfterS" in send) {
    await refused("sends_exceeded");
    return { ok: false, code: "rate_limited", retryAfterS: send.retryAfterS };
  }
  const code = drawCode(deps.random);
  await store.saveChallenge({
    userId,
    phoneE164,
    codeHash: hashCode(deps.codeKey, userId, phoneE164, code),
    expiresAtMs: deps.clock.nowMs() + config.codeTtlMs,
    sends: send.sends,
    sendsWindowStartedAtMs: send.windowStartMs,
  });
  const minutes = Math.max(1, Math.round(config.codeTtlMs / 60_000));
  await deps.sms.send({
    to: phoneE164,
    code,
    text: `Your Ledgerflow code is ${code}. It expires in ${minutes} min.`,
  });
  await audit.record({ kind: "phone.code_sent", outcome: "succeeded", userId, clientIp });
  return {
    ok: true,
    status: "code_sent",
    phoneNumber: phoneE164,
    expiresInS: Math.floor(config.codeTtlMs / 1000),
  };
}

async function verify(
  deps: PhoneVerificationDeps,
  userId: string,
  code: string,
  clientIp: string,
): Promise<VerifyResult> {
  const { store, config, clock, audit } = deps;
  const refused = (reason: string) =>
    audit.record({ kind: "phone.verify", outcome: "refused", userId, reason, clientIp });
  // One attempt is claimed before the comparison, atomically: parallel guesses cannot exceed the limit.
  const claimed = await store.claimAttempt(userId, clock.nowMs(), config.attemptsMax);
  if (claimed === undefined) {
    await refused("no_live_code");
    return { ok: false, code: "otp_expired" };
  }
  if (!codeMatches(claimed.codeHash, hashCode(deps.codeKey, userId, claimed.phoneE164, code))) {
    const attemptsLeft = config.attemptsMax - claimed.attempts;
    if (attemptsLeft <= 0) await store.burn(userId);
    await refused(attemptsLeft <= 0 ? "code_wrong_burned" : "code_wrong");
    return { ok: false, code: "otp_invalid", attemptsLeft };
  }
  if (!(await store.completeVerification(userId, claimed.phoneE164, clock.nowMs()))) {
    await refused("phone_taken");
    return { ok: false, code: "phone_taken" };
  }
  await audit.record({ kind: "phone.verify", outcome: "succeeded", userId, clientIp });
  return { ok: true, phoneNumber: claimed.phoneE164 };
}
