/** The participants' Web Push subscriptions, in the community's PostgreSQL tables. */
import type pg from "pg";
import { inTransaction } from "../../platform/db/pool.ts";
import type { PushSubscription } from "./port.ts";

export interface PushSubscriptions {
  /** Keeps the subscription for `userId`; beyond `perUserMax` the user's oldest ones are dropped. */
  save(userId: string, subscription: PushSubscription, nowMs: number, perUserMax: number): Promise<void>;
  /** Removes the user's subscription at `endpoint`; false when they had none there. */
  remove(userId: string, endpoint: string): Promise<boolean>;
  of(userId: string): Promise<readonly PushSubscription[]>;
  /** The push service says the endpoint is gone. */
  forget(endpoint: string): Promise<void>;
}

export function createPushSubscriptions(pool: pg.Pool): PushSubscriptions {
  return {
    async save(userId, { endpoint, keys }, nowMs, perUserMax) {
      await inTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO community_push_subscriptions (endpoint, user_id, p256dh, auth, created_at_ms)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (endpoint) DO UPDATE
             SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
                 created_at_ms = EXCLUDED.created_at_ms`,
          [endpoint, userId, keys.p256dh, keys.auth, nowMs],
        );
        await client.query(
          `DELETE FROM community_push_subscriptions WHERE user_id = $1 AND endpoint NOT IN (
             SELECT endpoint FROM community_push_subscriptions WHERE user_id = $1
             ORDER BY created_at_ms DESC, endpoint LIMIT $2)`,
          [userId, perUserMax],
        );
      });
    },
    async remove(userId, endpoint) {
      const { rowCount } = await pool.query(
        "DELETE FROM community_push_subscriptions WHERE user_id = $1 AND endpoint = $2",
        [userId, endpoint],
      );
      return (rowCount ?? 0) > 0;
    },
    async of(userId) {
      const { rows } = await pool.query<{ endpoint: string; p256dh: string; auth: string }>(
        "SELECT endpoint, p256dh, auth FROM community_push_subscriptions WHERE user_id = $1",
        [userId],
      );
      return rows.map(({ endpoint, p256dh, auth }) => ({ endpoint, keys: { p256dh, auth } }));
    },
    async forget(endpoint) {
      await pool.query("DELETE FROM community_push_subscriptions WHERE endpoint = $1", [endpoint]);
    },
  };
}
