/**
 * Account-id claims (migration 0016): the first caller to open an account id owns the creation.
 * The claim is taken before the command is appended, so a creation by another caller under the same
 * id is refused at once (409) rather than accepted while the first one is still undecided.
 */
import type pg from "pg";
import { prepared } from "../platform/db/pool.ts";

export interface AccountClaim {
  readonly accountId: string;
  readonly ownerId: string;
  /** The creation command's fingerprint: same owner and same payload means an idempotent replay. */
  readonly fingerprint: string;
  /** SHA-256 (hex) of the account's token; never the token itself. */
  readonly tokenHash: string;
  readonly claimedAtMs: number;
}

export type ClaimOutcome =
  | { readonly kind: "claimed" }
  /** The id was claimed before: by this same request (a replay) or by another caller. */
  | { readonly kind: "taken"; readonly existing: AccountClaim }
  /** Claimed and released again several times in a row: answered like a claim by someone else. */
  | { readonly kind: "contended" };

export interface AccountClaims {
  claim(claim: AccountClaim): Promise<ClaimOutcome>;
  /** Gives up a claim whose command could not be appended, so that the owner's retry starts afresh. */
  release(accountId: string, tokenHash: string): Promise<void>;
}

const claimAttemptsMax = 3;

export function createPostgresAccountClaims(pool: pg.Pool): AccountClaims {
  return {
    async claim(claim) {
      // A claim released between the insert and the read (its append failed) frees the id again.
      for (let attempt = 1; ; attempt++) {
        const outcome = await claimOnce(pool, claim);
        if (outcome !== undefined || attempt >= claimAttemptsMax) return outcome ?? { kind: "contended" };
      }
    },
    async release(accountId, tokenHash) {
      await pool.query(
        prepared("DELETE FROM ledger_account_claims WHERE account_id = $1 AND token_hash = $2"),
        [accountId, tokenHash],
      );
    },
  };
}

async function claimOnce(pool: pg.Pool, claim: AccountClaim): Promise<ClaimOutcome | undefined> {
  const { rows } = await pool.query(
    prepared(`INSERT INTO ledger_account_claims (account_id, owner_id, fingerprint, token_hash, claimed_at_ms)
              VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO NOTHING RETURNING account_id`),
    [claim.accountId, claim.ownerId, claim.fingerprint, claim.tokenHash, claim.claimedAtMs],
  );
  if (rows.length === 1) return { kind: "claimed" };
  // Taken: read the holder in a new statement, whose snapshot sees the row ON CONFLICT waited for.
  const existing = await pool.query(
    prepared(
      "SELECT owner_id, fingerprint, token_hash, claimed_at_ms FROM ledger_account_claims WHERE account_id = $1",
    ),
    [claim.accountId],
  );
  const row = existing.rows[0];
  return row === undefined ? undefined : { kind: "taken", existing: claimFromRow(claim.accountId, row) };
}

function claimFromRow(accountId: string, row: Record<string, unknown>): AccountClaim {
  return {
    accountId,
    ownerId: row.owner_id as string,
    fingerprint: row.fingerprint as string,
    tokenHash: row.token_hash as string,
    claimedAtMs: Number(row.claimed_at_ms),
  };
}
