/**
 * The sharing tables: each participant's agreement (decided by the pure decider under the share
 * row's lock) and the posting outbox, a row per share and target. Postings are claimed with a
 * lease (`FOR UPDATE SKIP LOCKED`, attempts + 1): two posters never hold one row, and a poster that
 * died mid-attempt leaves a row that is due again when its lease ends. Only the claim's holder may
 * record its outcome (the attempts count is the fencing token).
 */
import type pg from "pg";
import { inTransaction } from "../../platform/db/pool.ts";
import { decideShare, notAgreed, type ShareCommand, type ShareDecision, type ShareState } from "./domain.ts";

export interface PostingView {
  readonly target: string;
  readonly status: "pending" | "delivered" | "failed";
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deliveredAtMs: number | null;
}

export interface ClaimedPosting {
  readonly connectionId: string;
  readonly target: string;
  readonly body: string;
  readonly attempts: number;
}

export interface NewPosting {
  readonly target: string;
  readonly targetLabel: string;
  readonly body: string;
}

export interface ShareStore {
  state(connectionId: string): Promise<ShareState>;
  /** Decides under the share's lock; when it becomes shared, the postings are stored with it. */
  decide(
    connectionId: string,
    command: ShareCommand,
    postings: readonly NewPosting[],
  ): Promise<ShareDecision>;
  postings(connectionId: string): Promise<readonly PostingView[]>;
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<readonly ClaimedPosting[]>;
  delivered(posting: ClaimedPosting, nowMs: number): Promise<void>;
  /** A failed attempt: due again at `retryAtMs`, or failed for good when it is undefined. */
  attemptFailed(posting: ClaimedPosting, error: string, retryAtMs: number | undefined): Promise<void>;
}

const optionalMs = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));

function stateFromRow(row: Record<string, unknown> | undefined): ShareState {
  if (row === undefined) return notAgreed;
  return {
    officerAgreedAtMs: optionalMs(row.officer_agreed_at_ms),
    citizenAgreedAtMs: optionalMs(row.citizen_agreed_at_ms),
    sharedAtMs: optionalMs(row.shared_at_ms),
  };
}

async function storeState(client: pg.PoolClient, connectionId: string, state: ShareState) {
  await client.query(
    `UPDATE community_shares SET officer_agreed_at_ms = $2, citizen_agreed_at_ms = $3, shared_at_ms = $4
      WHERE connection_id = $1`,
    [
      connectionId,
      state.officerAgreedAtMs ?? null,
      state.citizenAgreedAtMs ?? null,
      state.sharedAtMs ?? null,
    ],
  );
}

async function storePostings(
  client: pg.PoolClient,
  connectionId: string,
  postings: readonly NewPosting[],
  nowMs: number,
) {
  for (const posting of postings)
    await client.query(
      `INSERT INTO community_share_posts (connection_id, target, target_label, body, status, next_attempt_at_ms)
       VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT DO NOTHING`,
      [connectionId, posting.target, posting.targetLabel, posting.body, nowMs],
    );
}

export function createShareStore(pool: pg.Pool): ShareStore {
  return {
    ...postingOutbox(pool),
    async state(connectionId) {
      const { rows } = await pool.query("SELECT * FROM community_shares WHERE connection_id = $1", [
        connectionId,
      ]);
      return stateFromRow(rows[0]);
    },
    decide(connectionId, command, postings) {
      return inTransaction(pool, async (client) => {
        await client.query(
          "INSERT INTO community_shares (connection_id) VALUES ($1) ON CONFLICT DO NOTHING",
          [connectionId],
        );
        const { rows } = await client.query(
          "SELECT * FROM community_shares WHERE connection_id = $1 FOR UPDATE",
          [connectionId],
        );
        const decision = decideShare(stateFromRow(rows[0]), command);
        if (decision.kind !== "changed") return decision;
        await storeState(client, connectionId, decision.state);
        if (decision.shared) await storePostings(client, connectionId, postings, command.nowMs);
        return decision;
      });
    },
  };
}

/** The posting outbox: what participants see of it, and the poster's claims and outcomes. */
function postingOutbox(pool: pg.Pool): Omit<ShareStore, "state" | "decide"> {
  return {
    async postings(connectionId) {
      const { rows } = await pool.query(
        `SELECT target_label, status, attempts, last_error, delivered_at_ms FROM community_share_posts
          WHERE connection_id = $1 ORDER BY target_label, target`,
        [connectionId],
      );
      return rows.map((row) => ({
        target: row.target_label as string,
        status: row.status as PostingView["status"],
        attempts: row.attempts as number,
        lastError: (row.last_error as string | null) ?? null,
        deliveredAtMs: optionalMs(row.delivered_at_ms) ?? null,
      }));
    },
    async claimDue(nowMs, leaseMs, limit) {
      const { rows } = await pool.query(
        `UPDATE community_share_posts p SET attempts = p.attempts + 1, next_attempt_at_ms = $2
          WHERE (p.connection_id, p.target) IN (
            SELECT connection_id, target FROM community_share_posts
             WHERE status = 'pending' AND next_attempt_at_ms <= $1
             ORDER BY next_attempt_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING p.connection_id, p.target, p.body, p.attempts`,
        [nowMs, nowMs + leaseMs, limit],
      );
      return rows.map((row) => ({
        connectionId: row.connection_id as string,
        target: row.target as string,
        body: row.body as string,
        attempts: row.attempts as number,
      }));
    },
    async delivered(posting, nowMs) {
      await pool.query(
        `UPDATE community_share_posts SET status = 'delivered', delivered_at_ms = $4, last_error = NULL
          WHERE connection_id = $1 AND target = $2 AND attempts = $3 AND status = 'pending'`,
        [posting.connectionId, posting.target, posting.attempts, nowMs],
      );
    },
    async attemptFailed(posting, error, retryAtMs) {
      await pool.query(
        `UPDATE community_share_posts
            SET status = CASE WHEN $5::bigint IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at_ms = COALESCE($5::bigint, next_attempt_at_ms), last_error = $4
          WHERE connection_id = $1 AND target = $2 AND attempts = $3 AND status = 'pending'`,
        [posting.connectionId, posting.target, posting.attempts, error.slice(0, 200), retryAtMs ?? null],
      );
    },
  };
}
