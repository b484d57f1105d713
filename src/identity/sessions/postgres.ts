import type pg from "pg";
import { inTransaction } from "../../platform/db/pool.ts";
import { assert } from "../../platform/errors.ts";
import {
  decideRefresh,
  type FoundToken,
  type NextToken,
  type RevokedReason,
  type SessionRecord,
  type SessionStore,
} from "./store.ts";

interface SessionRow {
  readonly id: string;
  readonly user_id: string;
  readonly device: string;
  readonly ip_coarse: string;
  readonly created_at: Date;
  readonly last_used_at: Date;
  readonly revoked_at: Date | null;
  readonly revoked_reason: RevokedReason | null;
}

const columns =
  "s.id, s.user_id, s.device, s.ip_coarse, s.created_at, s.last_used_at, s.revoked_at, s.revoked_reason";
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `identity_sessions` and `identity_refresh_tokens` tables (migration 0022). */
export function createPostgresSessionStore(pool: pg.Pool): SessionStore {
  return {
    async create(session, token) {
      await inTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO identity_sessions (id, user_id, device, ip_coarse, created_at, last_used_at)
           VALUES ($1, $2, $3, $4, $5, $5)`,
          [session.id, session.userId, session.device, session.ipCoarse, new Date(session.createdAtMs)],
        );
        await insertToken(client, session.id, token);
      });
    },

    refresh: (tokenHash, next, ipCoarse) =>
      inTransaction(pool, (client) => refreshIn(client, tokenHash, next, ipCoarse)),

    async sessionOfToken(tokenHash) {
      return (await findToken(pool, tokenHash, false))?.session;
    },

    async revoke(sessionId, reason, atMs, userId) {
      if (!uuidPattern.test(sessionId)) return undefined;
      const result = await pool.query<SessionRow>(
        `UPDATE identity_sessions s SET revoked_at = $2, revoked_reason = $3
         WHERE s.id = $1 AND s.revoked_at IS NULL AND ($4::uuid IS NULL OR s.user_id = $4)
         RETURNING ${columns}`,
        [sessionId, new Date(atMs), reason, userId ?? null],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : toSession(row);
    },

    async revokeAllOf(userId, reason, atMs) {
      const result = await pool.query<{ id: string }>(
        `UPDATE identity_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
        [userId, new Date(atMs), reason],
      );
      return result.rows.map((row) => row.id);
    },

    async liveOf(userId, limit) {
      const result = await pool.query<SessionRow>(
        `SELECT ${columns} FROM identity_sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL
         ORDER BY s.last_used_at DESC LIMIT $2`,
        [userId, limit],
      );
      return result.rows.map(toSession);
    },

    async revokedSince(sinceMs) {
      const result = await pool.query<{ id: string }>(
        "SELECT id FROM identity_sessions WHERE revoked_at >= $1",
        [new Date(sinceMs)],
      );
      return result.rows.map((row) => row.id);
    },
  };
}

/** Decides with the token and session rows locked, and applies the decision in the same transaction. */
async function refreshIn(client: pg.PoolClient, tokenHash: Uint8Array, next: NextToken, ipCoarse: string) {
  const found = await findToken(client, tokenHash, true);
  const decision = decideRefresh(found, next.createdAtMs);
  const at = new Date(next.createdAtMs);
  if (decision.kind === "rotated") {
    await client.query("UPDATE identity_refresh_tokens SET rotated_at = $2 WHERE token_hash = $1", [
      tokenHash,
      at,
    ]);
    await insertToken(client, decision.session.id, next);
    await client.query("UPDATE identity_sessions SET last_used_at = $2, ip_coarse = $3 WHERE id = $1", [
      decision.session.id,
      at,
      ipCoarse,
    ]);
  }
  if (decision.kind === "reused") {
    await client.query(
      "UPDATE identity_sessions SET revoked_at = $2, revoked_reason = 'reuse' WHERE id = $1 AND revoked_at IS NULL",
      [decision.session.id, at],
    );
    return { ...decision, revokedNow: true };
  }
  return decision;
}

type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

async function findToken(
  db: Queryable,
  tokenHash: Uint8Array,
  lock: boolean,
): Promise<FoundToken | undefined> {
  const result = await db.query<SessionRow & { rotated_at: Date | null; expires_at: Date }>(
    `SELECT ${columns}, t.rotated_at, t.expires_at
     FROM identity_refresh_tokens t JOIN identity_sessions s ON s.id = t.session_id
     WHERE t.token_hash = $1 ${lock ? "FOR UPDATE OF t, s" : ""}`,
    [tokenHash],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    session: toSession(row),
    rotatedAtMs: row.rotated_at?.getTime(),
    expiresAtMs: row.expires_at.getTime(),
  };
}

async function insertToken(
  client: pg.PoolClient,
  sessionId: string,
  token: { hash: Uint8Array; createdAtMs: number; expiresAtMs: number },
) {
  await client.query(
    `INSERT INTO identity_refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
    [token.hash, sessionId, new Date(token.createdAtMs), new Date(token.expiresAtMs)],
  );
}

function toSession(row: SessionRow): SessionRecord {
  assert(row.id !== undefined, "a session row has an id");
  return {
    id: row.id,
    userId: row.user_id,
    device: row.device,
    ipCoarse: row.ip_coarse,
    createdAtMs: row.created_at.getTime(),
    lastUsedAtMs: row.last_used_at.getTime(),
    revokedAtMs: row.revoked_at?.getTime(),
    revokedReason: row.revoked_reason ?? undefined,
  };
}
