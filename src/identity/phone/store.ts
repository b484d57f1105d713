/** The phone tables of migration 0052: verified numbers and pending verifications. */
import type pg from "pg";
import { inTransaction } from "../../platform/db/pool.ts";

export interface PendingChallenge {
  readonly phoneE164: string;
  readonly expiresAtMs: number;
  readonly attempts: number;
  /** False once the attempts are used up (the code is burned). */
  readonly live: boolean;
  readonly sends: number;
  readonly sendsWindowStartedAtMs: number;
}

export interface NewChallenge {
  readonly userId: string;
  readonly phoneE164: string;
  readonly codeHash: Buffer;
  readonly expiresAtMs: number;
  readonly sends: number;
  readonly sendsWindowStartedAtMs: number;
}

export interface PhoneStore {
  verifiedPhoneOf(userId: string): Promise<string | undefined>;
  ownerOf(phoneE164: string): Promise<string | undefined>;
  challengeOf(userId: string): Promise<PendingChallenge | undefined>;
  saveChallenge(challenge: NewChallenge): Promise<void>;
  /**
   * Uses one attempt, atomically: the live, unexpired challenge's code hash and the attempts now
   * used, or undefined when there is none (never sent, expired, burned or already used).
   */
  claimAttempt(
    userId: string,
    nowMs: number,
    attemptsMax: number,
  ): Promise<{ codeHash: Buffer; phoneE164: string; attempts: number } | undefined>;
  burn(userId: string): Promise<void>;
  /** Makes the challenge's number the user's verified number; false when another user holds it. */
  completeVerification(userId: string, phoneE164: string, nowMs: number): Promise<boolean>;
}

const uniqueViolation = "23505";

export function createPostgresPhoneStore(pool: pg.Pool): PhoneStore {
  return {
    async verifiedPhoneOf(userId) {
      const { rows } = await pool.query("SELECT phone_e164 FROM identity_phones WHERE user_id = $1", [
        userId,
      ]);
      return rows[0]?.phone_e164 as string | undefined;
    },
    async ownerOf(phoneE164) {
      const { rows } = await pool.query("SELECT user_id FROM identity_phones WHERE phone_e164 = $1", [
        phoneE164,
      ]);
      return rows[0]?.user_id as string | undefined;
    },
    async challengeOf(userId) {
      const { rows } = await pool.query(
        `SELECT phone_e164, expires_at, attempts, code_hash IS NOT NULL AS live, sends, sends_window_started_at
         FROM identity_phone_challenges WHERE user_id = $1`,
        [userId],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        phoneE164: row.phone_e164,
        expiresAtMs: (row.expires_at as Date).getTime(),
        attempts: row.attempts,
        live: row.live,
        sends: row.sends,
        sendsWindowStartedAtMs: (row.sends_window_started_at as Date).getTime(),
      };
    },
    async saveChallenge(challenge) {
      await pool.query(
        `INSERT INTO identity_phone_challenges
           (user_id, phone_e164, code_hash, expires_at, attempts, sends, sends_window_started_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6)
         ON CONFLICT (user_id) DO UPDATE SET phone_e164 = $2, code_hash = $3, expires_at = $4, attempts = 0,
           sends = $5, sends_window_started_at = $6`,
        [
          challenge.userId,
          challenge.phoneE164,
          challenge.codeHash,
          new Date(challenge.expiresAtMs),
          challenge.sends,
          new Date(challenge.sendsWindowStartedAtMs),
        ],
      );
    },
    async claimAttempt(userId, nowMs, attemptsMax) {
      const { rows } = await pool.query(
        `UPDATE identity_phone_challenges SET attempts = attempts + 1
         WHERE user_id = $1 AND code_hash IS NOT NULL AND expires_at > $2 AND attempts < $3
         RETURNING code_hash, phone_e164, attempts`,
        [userId, new Date(nowMs), attemptsMax],
      );
      const row = rows[0];
      return row === undefined
        ? undefined
        : {
            codeHash: row.code_hash as Buffer,
            phoneE164: row.phone_e164 as string,
            attempts: row.attempts as number,
          };
    },
    async burn(userId) {
      await pool.query("UPDATE identity_phone_challenges SET code_hash = NULL WHERE user_id = $1", [userId]);
    },
    completeVerification: (userId, phoneE164, nowMs) => complete(pool, userId, phoneE164, nowMs),
  };
}

async function complete(pool: pg.Pool, userId: string, phoneE164: string, nowMs: number): Promise<boolean> {
  try {
    await inTransaction(pool, async (client) => {
      // The code is used up either way; the sends window stays (resend limit) until it expires.
      await client.query("UPDATE identity_phone_challenges SET code_hash = NULL WHERE user_id = $1", [
        userId,
      ]);
      await client.query(
        `INSERT INTO identity_phones (user_id, phone_e164, verified_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET phone_e164 = $2, verified_at = $3`,
        [userId, phoneE164, new Date(nowMs)],
      );
    });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === uniqueViolation) {
      await pool.query("UPDATE identity_phone_challenges SET code_hash = NULL WHERE user_id = $1", [userId]);
      return false;
    }
    throw error;
  }
}
