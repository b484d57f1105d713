/**
 * The community context's tables: requests, connections, trophies and the outbox of
 * community.events. Each decision is made by a pure decider (domain/) inside the transaction that
 * stores it, under a lock per officer–citizen pair, so two requests or accepts of one pair at once
 * cannot both pass the flood limit or the 24-hour rule.
 */
import type pg from "pg";
import { inTransaction } from "../platform/db/pool.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { encodeOutboxBatch, type OutboxRecord } from "../platform/outbox.ts";
import {
  type AnswerDecision,
  type Connection,
  type ConnectionRequest,
  decideAnswer,
  type RequestDecision,
  type RequestFacts,
  type RequestRules,
} from "./domain/requests.ts";
import { newTrophies, type TrophyRules } from "./domain/trophies.ts";
import { eventToAvro } from "./event-codec.ts";
import type { CommunityEvent, ConnectionEstablished } from "./events.ts";

/** What the request decider needs from the store (the rest comes from memory: presence, positions). */
export type StoredRequestFacts = Pick<
  RequestFacts,
  "recentRequestsCount" | "pendingRequest" | "lastPairRewardAtMs"
>;

export interface AnswerInput {
  readonly requestId: string;
  readonly officerId: string;
  readonly action: "accept" | "decline";
  readonly connectionIdOf: (requestId: string) => string;
  readonly pointsOf: (request: ConnectionRequest) => bigint;
  readonly nowMs: number;
}

export interface AnswerResult {
  readonly decision: AnswerDecision;
  readonly request: ConnectionRequest | undefined;
  /** The connection (new, or the one a replayed accept names). */
  readonly connection: Connection | undefined;
  readonly trophies: readonly { userId: string; trophy: string }[];
}

export interface CommunityStore {
  /** Decides and stores a request under the pair's lock; nothing is stored when refused. */
  request(
    citizenId: string,
    officerId: string,
    nowMs: number,
    decide: (stored: StoredRequestFacts) => RequestDecision,
  ): Promise<RequestDecision>;
  answer(input: AnswerInput): Promise<AnswerResult>;
  connectionsOf(userId: string, limit: number): Promise<readonly Connection[]>;
  trophiesOf(userId: string): Promise<readonly { trophy: string; connectionId: string; atMs: number }[]>;
  connection(id: string): Promise<Connection | undefined>;
  /**
   * Marks the request expired if it is still pending and due at `nowMs`; answers it then, once
   * (undefined when answered, already marked, or not due). A conditional UPDATE: of several
   * processes (or a timer and a sweep) only one gets it.
   */
  expireRequest(requestId: string, nowMs: number): Promise<ConnectionRequest | undefined>;
  /** Marks up to `limit` pending requests due at `nowMs` expired (oldest due first); answers those it marked. */
  expireDue(nowMs: number, limit: number): Promise<readonly ConnectionRequest[]>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const pairLock = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 62))";

function requestFromRow(row: Record<string, unknown>): ConnectionRequest {
  return {
    id: row.id as string,
    citizenId: row.citizen_id as string,
    officerId: row.officer_id as string,
    kind: row.kind as ConnectionRequest["kind"],
    cell: row.cell as string,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    status: row.status as ConnectionRequest["status"],
    connectionId: (row.connection_id as string | null) ?? undefined,
  };
}

function connectionFromRow(row: Record<string, unknown>): Connection {
  return {
    id: row.id as string,
    requestId: row.request_id as string,
    officerId: row.officer_id as string,
    citizenId: row.citizen_id as string,
    kind: row.kind as Connection["kind"],
    rewarded: row.rewarded as boolean,
    pointsEach: BigInt(row.points_each as string),
    cell: row.cell as string,
    atMs: Number(row.at_ms),
  };
}

async function lastPairRewardAtMs(client: pg.PoolClient, officerId: string, citizenId: string) {
  const { rows } = await client.query(
    "SELECT max(at_ms) AS at FROM community_connections WHERE officer_id = $1 AND citizen_id = $2 AND rewarded",
    [officerId, citizenId],
  );
  return rows[0]?.at === null || rows[0]?.at === undefined ? undefined : Number(rows[0].at);
}

async function storedFacts(
  client: pg.PoolClient,
  rules: RequestRules,
  citizenId: string,
  officerId: string,
  nowMs: number,
): Promise<StoredRequestFacts> {
  const { rows } = await client.query(
    `SELECT count(*)::int AS recent, bool_or(status = 'pending' AND expires_at_ms > $3) AS pending
       FROM community_requests WHERE citizen_id = $1 AND officer_id = $2 AND created_at_ms > $4`,
    [citizenId, officerId, nowMs, nowMs - Math.max(rules.requestWindowMs, rules.requestTtlMs)],
  );
  // Requests older than the flood window may still be pending (a TTL longer than the window).
  const recent = await client.query(
    "SELECT count(*)::int AS n FROM community_requests WHERE citizen_id = $1 AND officer_id = $2 AND created_at_ms > $3",
    [citizenId, officerId, nowMs - rules.requestWindowMs],
  );
  return {
    recentRequestsCount: recent.rows[0].n as number,
    pendingRequest: rows[0]?.pending === true,
    lastPairRewardAtMs: await lastPairRewardAtMs(client, officerId, citizenId),
  };
}

export function createCommunityStore(deps: {
  pool: pg.Pool;
  rules: RequestRules & TrophyRules;
  codec: TopicCodec;
  onCommitted?: () => void;
}): CommunityStore {
  const { pool, rules } = deps;
  return {
    async request(citizenId, officerId, nowMs, decide) {
      const decision = await inTransaction(pool, async (client) => {
        await client.query(pairLock, [officerId, citizenId]);
        const verdict = decide(await storedFacts(client, rules, citizenId, officerId, nowMs));
        if (verdict.kind === "requested") await insertRequest(client, verdict.request);
        return verdict;
      });
      return decision;
    },
    async answer(input) {
      const result = await inTransaction(pool, (client) => answerIn(client, deps, input));
      if (result.decision.kind === "accepted") deps.onCommitted?.();
      return result;
    },
    async connectionsOf(userId, limit) {
      const { rows } = await pool.query(
        `SELECT * FROM community_connections WHERE officer_id = $1 OR citizen_id = $1
          ORDER BY at_ms DESC, id LIMIT $2`,
        [userId, limit],
      );
      return rows.map(connectionFromRow);
    },
    async trophiesOf(userId) {
      const { rows } = await pool.query(
        "SELECT trophy, connection_id, at_ms FROM community_trophies WHERE user_id = $1 ORDER BY at_ms, trophy",
        [userId],
      );
      return rows.map((r) => ({ trophy: r.trophy, connectionId: r.connection_id, atMs: Number(r.at_ms) }));
    },
    async expireRequest(requestId, nowMs) {
      const { rows } = await pool.query(
        `UPDATE community_requests SET status = 'expired', answered_at_ms = $2
          WHERE id = $1 AND status = 'pending' AND expires_at_ms <= $2 RETURNING *`,
        [requestId, nowMs],
      );
      return rows[0] ? requestFromRow(rows[0]) : undefined;
    },
    async expireDue(nowMs, limit) {
      // SKIP LOCKED: processes sweeping at once take different rows; the outer status test makes a
      // row answered meanwhile (its transaction held the lock) stay as answered.
      const { rows } = await pool.query(
        `UPDATE community_requests SET status = 'expired', answered_at_ms = $1
          WHERE id IN (SELECT id FROM community_requests
                        WHERE status = 'pending' AND expires_at_ms <= $1
                        ORDER BY expires_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
            AND status = 'pending' RETURNING *`,
        [nowMs, limit],
      );
      return rows.map(requestFromRow);
    },
    async connection(id) {
      if (!uuidPattern.test(id)) return undefined;
      const { rows } = await pool.query("SELECT * FROM community_connections WHERE id = $1", [id]);
      return rows[0] ? connectionFromRow(rows[0]) : undefined;
    },
  };
}

async function insertRequest(client: pg.PoolClient, request: ConnectionRequest): Promise<void> {
  await client.query(
    `INSERT INTO community_requests (id, citizen_id, officer_id, kind, cell, created_at_ms, expires_at_ms, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      request.id,
      request.citizenId,
      request.officerId,
      request.kind,
      request.cell,
      request.createdAtMs,
      request.expiresAtMs,
      request.status,
    ],
  );
}

async function findRequest(
  client: pg.PoolClient,
  id: string,
  forUpdate = false,
): Promise<ConnectionRequest | undefined> {
  const { rows } = await client.query(
    `SELECT * FROM community_requests WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ? requestFromRow(rows[0]) : undefined;
}

/** The answer's transaction: lock the pair, decide, store the connection, trophies and events. */
async function answerIn(
  client: pg.PoolClient,
  deps: { rules: RequestRules & TrophyRules; codec: TopicCodec },
  input: AnswerInput,
): Promise<AnswerResult> {
  const seen = await findRequest(client, input.requestId);
  if (seen === undefined || seen.officerId !== input.officerId)
    return {
      decision: decideAnswer(deps.rules, undefined, answerOf(input, undefined, 0n)),
      request: undefined,
      connection: undefined,
      trophies: [],
    };
  await client.query(pairLock, [seen.officerId, seen.citizenId]);
  // Locked: an expiry marking the row at the same moment waits for this answer, or this one sees it.
  const request = (await findRequest(client, input.requestId, true)) as ConnectionRequest;
  const last = await lastPairRewardAtMs(client, request.officerId, request.citizenId);
  const decision = decideAnswer(deps.rules, request, answerOf(input, last, input.pointsOf(request)));
  if (decision.kind === "replayed") {
    const { rows } = await client.query("SELECT * FROM community_connections WHERE id = $1", [
      decision.connectionId,
    ]);
    return { decision, request, connection: rows[0] ? connectionFromRow(rows[0]) : undefined, trophies: [] };
  }
  if (decision.kind === "declined") {
    await client.query(
      "UPDATE community_requests SET status = 'declined', answered_at_ms = $2 WHERE id = $1",
      [request.id, input.nowMs],
    );
    return { decision, request, connection: undefined, trophies: [] };
  }
  if (decision.kind !== "accepted") return { decision, request, connection: undefined, trophies: [] };
  const connection = decision.connection;
  await storeConnection(client, connection);
  const trophies = [
    ...(await awardTrophies(client, deps.rules, connection, connection.officerId)),
    ...(await awardTrophies(client, deps.rules, connection, connection.citizenId)),
  ];
  await writeEvents(client, deps.codec, [
    establishedEvent(connection),
    ...trophies.map((t) => ({
      type: "TrophyAwarded" as const,
      ...t,
      connectionId: connection.id,
      atMs: connection.atMs,
    })),
  ]);
  return { decision, request, connection, trophies };
}

function answerOf(input: AnswerInput, lastPairRewardAtMs: number | undefined, pointsEach: bigint) {
  return {
    officerId: input.officerId,
    action: input.action,
    connectionId: input.connectionIdOf(input.requestId),
    lastPairRewardAtMs,
    pointsEach,
    nowMs: input.nowMs,
  };
}

async function storeConnection(client: pg.PoolClient, c: Connection): Promise<void> {
  await client.query(
    "UPDATE community_requests SET status = 'accepted', connection_id = $2, answered_at_ms = $3 WHERE id = $1",
    [c.requestId, c.id, c.atMs],
  );
  await client.query(
    `INSERT INTO community_connections (id, request_id, officer_id, citizen_id, kind, rewarded, points_each, cell, at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      c.id,
      c.requestId,
      c.officerId,
      c.citizenId,
      c.kind,
      c.rewarded,
      c.pointsEach.toString(),
      c.cell,
      c.atMs,
    ],
  );
}

/** The trophies `userId` earns with `connection` (their history includes it), stored once each. */
async function awardTrophies(
  client: pg.PoolClient,
  rules: TrophyRules,
  connection: Connection,
  userId: string,
): Promise<{ userId: string; trophy: string }[]> {
  const { rows } = await client.query(
    `SELECT count(*)::int AS n,
            count(DISTINCT NULLIF(cell, ''))::int AS cells,
            array_agg(DISTINCT floor(at_ms / 86400000)::int) AS days
       FROM community_connections WHERE officer_id = $1 OR citizen_id = $1`,
    [userId],
  );
  const held = await client.query("SELECT trophy FROM community_trophies WHERE user_id = $1", [userId]);
  const history = {
    connectionsCount: rows[0].n as number,
    cellsCount: rows[0].cells as number,
    days: (rows[0].days as number[] | null) ?? [],
    nowMs: connection.atMs,
  };
  const earned = newTrophies(rules, history, new Set(held.rows.map((r) => r.trophy as string)));
  for (const trophy of earned)
    await client.query(
      "INSERT INTO community_trophies (user_id, trophy, connection_id, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      [userId, trophy, connection.id, connection.atMs],
    );
  return earned.map((trophy) => ({ userId, trophy }));
}

export function establishedEvent(c: Connection): ConnectionEstablished {
  return {
    type: "ConnectionEstablished",
    connectionId: c.id,
    officerId: c.officerId,
    citizenId: c.citizenId,
    kind: c.kind,
    rewarded: c.rewarded,
    pointsEach: c.pointsEach.toString(),
    cell: c.cell,
    atMs: c.atMs,
  };
}

async function writeEvents(client: pg.PoolClient, codec: TopicCodec, events: readonly CommunityEvent[]) {
  const records: OutboxRecord[] = events.map((event) => ({
    topic: codec.topic,
    key: event.connectionId,
    value: codec.encode(eventToAvro(event)),
  }));
  await client.query("INSERT INTO community_outbox (records) VALUES ($1)", [encodeOutboxBatch(records)]);
}
