/**
 * The community side of profiles in PostgreSQL (migration 0065): written only by the
 * `identity-profiles` consumer (`community-feed.ts`), read with the owner's profile.
 *
 * Exactly-once effect under redelivery: a connection moves a user's totals only when its processed
 * key (connection id, user id) is inserted in the same statement; a trophy is a set member that
 * keeps its earliest award. A record redelivered, or published twice, changes nothing.
 */
import type pg from "pg";
import { inTransaction, prepared } from "../../platform/db/pool.ts";
import { PoisonMessageError } from "../../platform/errors.ts";
import type { CommunityFact, ConnectionFact, TrophyFact } from "./community-facts.ts";

/** Most trophies listed on a profile (the community context awards a small fixed set). */
export const trophiesListedMax = 200;

export interface CommunityStats {
  readonly connectionsCount: number;
  /** PTS minor units earned by rewarded connections. */
  readonly pointsEarned: bigint;
  readonly trophies: readonly { readonly code: string; readonly firstAwardedAtMs: number }[];
  readonly lastConnectionAtMs: number | undefined;
}

export const noCommunityStats: CommunityStats = {
  connectionsCount: 0,
  pointsEarned: 0n,
  trophies: [],
  lastConnectionAtMs: undefined,
};

export interface CommunityStatsStore {
  /** Applies a batch's facts in one transaction; facts already applied change nothing. */
  apply(facts: readonly CommunityFact[]): Promise<void>;
  of(userId: string): Promise<CommunityStats>;
}

export function createPostgresCommunityStats(pool: pg.Pool): CommunityStatsStore {
  return {
    async apply(facts) {
      if (facts.length === 0) return;
      const connections = facts.filter((fact): fact is ConnectionFact => fact.kind === "connection");
      const trophies = facts.filter((fact): fact is TrophyFact => fact.kind === "trophy");
      await inTransaction(pool, async (client) => {
        await refuseUnknownUsers(client, facts);
        await applyConnections(client, connections);
        await applyTrophies(client, trophies);
      });
    },
    of: (userId) => statsOf(pool, userId),
  };
}

/**
 * A fact about a user identity does not know breaks the contract (the community context names
 * signed-in users): poison, so the consumer dead-letters that record and applies the others.
 */
async function refuseUnknownUsers(client: pg.PoolClient, facts: readonly CommunityFact[]) {
  const ids = [...new Set(facts.map((fact) => fact.userId))];
  const { rows } = await client.query<{ id: string }>(
    prepared("SELECT id FROM users WHERE id = ANY($1::uuid[])"),
    [ids],
  );
  const known = new Set(rows.map((row) => row.id));
  const unknown = ids.find((id) => !known.has(id));
  if (unknown !== undefined) throw new PoisonMessageError(`community event names unknown user ${unknown}`);
}

/** Sorted, so that batches of other partitions (other processes) lock users' rows in one order. */
const byUser = <T extends { readonly userId: string }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));

async function applyConnections(client: pg.PoolClient, facts: readonly ConnectionFact[]) {
  if (facts.length === 0) return;
  const unique = byUser([...new Map(facts.map((f) => [`${f.connectionId}\u0000${f.userId}`, f])).values()]);
  // Only rows inserted now (not seen before) move the totals: the processed key and the totals
  // change in one statement.
  await client.query(
    prepared(`WITH fresh AS (
        INSERT INTO identity_community_connections (connection_id, user_id, rewarded, points, connected_at)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::boolean[], $4::bigint[], $5::timestamptz[])
        ON CONFLICT DO NOTHING
        RETURNING user_id, points, connected_at)
      INSERT INTO identity_community_stats AS s (user_id, connections_count, points_earned, last_connection_at)
      SELECT user_id, count(*), sum(points), max(connected_at) FROM fresh GROUP BY user_id ORDER BY user_id
      ON CONFLICT (user_id) DO UPDATE SET
        connections_count = s.connections_count + excluded.connections_count,
        points_earned = s.points_earned + excluded.points_earned,
        last_connection_at = greatest(s.last_connection_at, excluded.last_connection_at)`),
    [
      unique.map((f) => f.connectionId),
      unique.map((f) => f.userId),
      unique.map((f) => f.rewarded),
      unique.map((f) => f.points.toString()),
      unique.map((f) => new Date(f.atMs)),
    ],
  );
}

async function applyTrophies(client: pg.PoolClient, facts: readonly TrophyFact[]) {
  if (facts.length === 0) return;
  // One row per (user, trophy) per statement, the earliest award of the batch.
  const earliest = new Map<string, TrophyFact>();
  for (const fact of facts) {
    const key = `${fact.userId}\u0000${fact.trophy}`;
    const seen = earliest.get(key);
    if (seen === undefined || fact.atMs < seen.atMs) earliest.set(key, fact);
  }
  const rows = byUser([...earliest.values()]);
  await client.query(
    prepared(`INSERT INTO identity_trophies AS t (user_id, trophy, first_awarded_at, connection_id)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[])
      ON CONFLICT (user_id, trophy) DO UPDATE SET
        first_awarded_at = excluded.first_awarded_at, connection_id = excluded.connection_id
      WHERE excluded.first_awarded_at < t.first_awarded_at`),
    [
      rows.map((f) => f.userId),
      rows.map((f) => f.trophy),
      rows.map((f) => new Date(f.atMs)),
      rows.map((f) => f.connectionId),
    ],
  );
}

async function statsOf(pool: pg.Pool, userId: string): Promise<CommunityStats> {
  const [stats, trophies] = await Promise.all([
    pool.query<{ connections_count: string; points_earned: string; last_connection_at: Date }>(
      prepared(`SELECT connections_count, points_earned, last_connection_at
        FROM identity_community_stats WHERE user_id = $1`),
      [userId],
    ),
    pool.query<{ trophy: string; first_awarded_at: Date }>(
      prepared(`SELECT trophy, first_awarded_at FROM identity_trophies WHERE user_id = $1
        ORDER BY first_awarded_at, trophy LIMIT ${trophiesListedMax}`),
      [userId],
    ),
  ]);
  const row = stats.rows[0];
  return {
    connectionsCount: row === undefined ? 0 : Number(row.connections_count),
    pointsEarned: row === undefined ? 0n : BigInt(row.points_earned),
    trophies: trophies.rows.map((t) => ({ code: t.trophy, firstAwardedAtMs: t.first_awarded_at.getTime() })),
    lastConnectionAtMs: row?.last_connection_at.getTime(),
  };
}
