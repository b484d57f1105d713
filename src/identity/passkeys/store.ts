/** The passkey tables of migration 0061: credentials and one-time challenges. */
import type pg from "pg";

export type ChallengePurpose = "register" | "sign_in" | "step_up";

export interface StoredPasskey {
  readonly id: string;
  readonly userId: string;
  readonly publicKey: Uint8Array;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | undefined;
}

export interface StepUpConfirmation {
  readonly transferId: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly binding: string;
  readonly confirmedAtMs: number;
}

export interface PasskeyStore {
  saveChallenge(
    challenge: string,
    purpose: ChallengePurpose,
    userId: string | undefined,
    expiresAtMs: number,
    binding?: string,
  ): Promise<void>;
  /**
   * Takes a live challenge of that purpose, once: deleted whether or not what follows succeeds, so
   * it can never be answered twice. Undefined when unknown, already used or expired.
   */
  claimChallenge(
    challenge: string,
    purpose: ChallengePurpose,
    nowMs: number,
  ): Promise<{ userId: string | undefined; binding: string | undefined } | undefined>;
  /** Challenges handed out and not yet claimed or expired (the table's bound). */
  liveCount(nowMs: number): Promise<number>;
  /** Forgets expired challenges (bounded table); the number removed. */
  purgeExpired(nowMs: number): Promise<number>;
  /** False when the credential id is already registered (to anyone). */
  add(passkey: Omit<StoredPasskey, "lastUsedAtMs">): Promise<boolean>;
  byId(id: string): Promise<StoredPasskey | undefined>;
  ofUser(userId: string): Promise<readonly StoredPasskey[]>;
  countOf(userId: string): Promise<number>;
  remove(userId: string, id: string): Promise<boolean>;
  /** Records a confirmed transfer; false when that transfer id was confirmed before. */
  addConfirmation(confirmation: StepUpConfirmation): Promise<boolean>;
  confirmationOf(transferId: string): Promise<StepUpConfirmation | undefined>;
  /** Moves the counter forward atomically; false when another assertion got there first. */
  advanceCounter(id: string, from: number, to: number, nowMs: number): Promise<boolean>;
}

export function createPostgresPasskeyStore(pool: pg.Pool): PasskeyStore {
  return { ...challengeStore(pool), ...credentialStore(pool), ...confirmationStore(pool) };
}

type ChallengeMethods = Pick<PasskeyStore, "saveChallenge" | "claimChallenge" | "purgeExpired" | "liveCount">;
type ConfirmationMethods = Pick<PasskeyStore, "addConfirmation" | "confirmationOf">;

function challengeStore(pool: pg.Pool): ChallengeMethods {
  return {
    async saveChallenge(challenge, purpose, userId, expiresAtMs, binding) {
      await pool.query(
        `INSERT INTO identity_passkey_challenges (challenge, purpose, user_id, expires_at, binding)
         VALUES ($1, $2, $3, $4, $5)`,
        [challenge, purpose, userId ?? null, new Date(expiresAtMs), binding ?? null],
      );
    },
    async claimChallenge(challenge, purpose, nowMs) {
      const { rows } = await pool.query(
        `WITH claimed AS (DELETE FROM identity_passkey_challenges WHERE challenge = $1 RETURNING *)
         SELECT user_id, binding FROM claimed WHERE purpose = $2 AND expires_at > $3`,
        [challenge, purpose, new Date(nowMs)],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        userId: (row.user_id as string | null) ?? undefined,
        binding: (row.binding as string | null) ?? undefined,
      };
    },
    async liveCount(nowMs) {
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM identity_passkey_challenges WHERE expires_at > $1",
        [new Date(nowMs)],
      );
      return rows[0].n as number;
    },
    async purgeExpired(nowMs) {
      const result = await pool.query("DELETE FROM identity_passkey_challenges WHERE expires_at <= $1", [
        new Date(nowMs),
      ]);
      return result.rowCount ?? 0;
    },
  };
}

function credentialStore(
  pool: pg.Pool,
): Omit<PasskeyStore, keyof ChallengeMethods | keyof ConfirmationMethods> {
  return {
    async add(passkey) {
      const result = await pool.query(
        `INSERT INTO identity_passkeys (id, user_id, public_key, counter, transports, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [
          passkey.id,
          passkey.userId,
          Buffer.from(passkey.publicKey),
          passkey.counter,
          [...passkey.transports],
          new Date(passkey.createdAtMs),
        ],
      );
      return result.rowCount === 1;
    },
    async byId(id) {
      const { rows } = await pool.query(`SELECT * FROM identity_passkeys WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : passkeyOf(rows[0]);
    },
    async ofUser(userId) {
      const { rows } = await pool.query(
        "SELECT * FROM identity_passkeys WHERE user_id = $1 ORDER BY created_at, id",
        [userId],
      );
      return rows.map(passkeyOf);
    },
    async countOf(userId) {
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM identity_passkeys WHERE user_id = $1",
        [userId],
      );
      return rows[0].n as number;
    },
    async remove(userId, id) {
      const result = await pool.query("DELETE FROM identity_passkeys WHERE id = $1 AND user_id = $2", [
        id,
        userId,
      ]);
      return result.rowCount === 1;
    },
    async advanceCounter(id, from, to, nowMs) {
      const result = await pool.query(
        "UPDATE identity_passkeys SET counter = $3, last_used_at = $4 WHERE id = $1 AND counter = $2",
        [id, from, to, new Date(nowMs)],
      );
      return result.rowCount === 1;
    },
  };
}

function confirmationStore(pool: pg.Pool): ConfirmationMethods {
  return {
    async addConfirmation(c) {
      const result = await pool.query(
        `INSERT INTO identity_step_up_confirmations (transfer_id, user_id, credential_id, binding, confirmed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id) DO NOTHING`,
        [c.transferId, c.userId, c.credentialId, c.binding, new Date(c.confirmedAtMs)],
      );
      return result.rowCount === 1;
    },
    async confirmationOf(transferId) {
      const { rows } = await pool.query(
        "SELECT * FROM identity_step_up_confirmations WHERE transfer_id = $1",
        [transferId],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        transferId: row.transfer_id,
        userId: row.user_id,
        credentialId: row.credential_id,
        binding: row.binding,
        confirmedAtMs: (row.confirmed_at as Date).getTime(),
      };
    },
  };
}

function passkeyOf(row: Record<string, unknown>): StoredPasskey {
  return {
    id: row.id as string,
    userId: row.user_id as string,
    publicKey: new Uint8Array(row.public_key as Buffer),
    counter: Number(row.counter),
    transports: row.transports as string[],
    createdAtMs: (row.created_at as Date).getTime(),
    lastUsedAtMs: row.last_used_at === null ? undefined : (row.last_used_at as Date).getTime(),
  };
}
