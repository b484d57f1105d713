/**
 * The write side of the insights projections: applies a batch of movements and moves the
 * projection's positions in one transaction (exactly-once effect under redelivery), into the live
 * tables or, for a rebuild, into fresh `<table>_next` tables that a swap then puts in their place.
 */
import type pg from "pg";
import { inTransaction, prepared } from "../platform/db/pool.ts";
import {
  type BranchesChange,
  evolveBranches,
  evolveInteractions,
  foldBranches,
  foldInteractions,
  type InteractionsChange,
  type Movement,
} from "./domain/evolve.ts";

export const projectionNames = ["interactions", "branches"] as const;
export type ProjectionName = (typeof projectionNames)[number];

/** The tables each projection owns (the branch registry is shared and never dropped). */
export const projectionTables: Record<ProjectionName, readonly string[]> = {
  interactions: ["insights_interactions", "insights_transactions"],
  branches: ["insights_client_branches", "insights_branch_volumes", "insights_operations"],
};

/** Where a projection writes: live, or the fresh tables of a rebuild. */
export interface ProjectionTarget {
  readonly projection: ProjectionName;
  readonly rebuild: boolean;
}

export const positionsKeyOf = (target: ProjectionTarget) =>
  target.rebuild ? `${target.projection}:rebuild` : target.projection;
const tableOf = (target: ProjectionTarget, table: string) => (target.rebuild ? `${table}_next` : table);
/** The advisory lock a live batch holds shared and a swap exclusively. */
const lockSql = (mode: "shared" | "exclusive") =>
  `SELECT pg_advisory_xact_lock${mode === "shared" ? "_shared" : ""}(hashtext('insights:' || $1::text))`;

/** One record of the outcomes topic: its position and, when it is a confirmed movement, that. */
export interface PositionedMovement {
  readonly partition: number;
  readonly offset: bigint;
  readonly movement: Movement | undefined;
}

type Client = pg.PoolClient;

/** Next offset to apply per partition. */
export async function readPositions(db: pg.Pool | Client, key: string): Promise<Map<number, bigint>> {
  const { rows } = await db.query(
    prepared("SELECT partition, next_offset FROM insights_positions WHERE projection = $1"),
    [key],
  );
  return new Map(rows.map((row) => [Number(row.partition), BigInt(row.next_offset)]));
}

/**
 * Applies the records not applied yet (at or past the positions) and moves the positions past the
 * batch; returns how many records were applied. Redelivered records change nothing.
 */
export async function applyBatch(
  pool: pg.Pool,
  target: ProjectionTarget,
  records: readonly PositionedMovement[],
): Promise<number> {
  if (records.length === 0) return 0;
  const key = positionsKeyOf(target);
  return inTransaction(pool, async (client) => {
    if (!target.rebuild) await client.query(lockSql("shared"), [target.projection]);
    // Only this batch's partitions: consumers of other partitions (other processes) are not held up.
    const partitions = [...new Set(records.map((r) => r.partition))].sort((a, b) => a - b);
    await client.query(
      prepared(`INSERT INTO insights_positions (projection, partition, next_offset)
        SELECT $1, p, 0 FROM unnest($2::int[]) AS p ON CONFLICT DO NOTHING`),
      [key, partitions],
    );
    const { rows } = await client.query(
      prepared(`SELECT partition, next_offset FROM insights_positions
        WHERE projection = $1 AND partition = ANY($2::int[]) ORDER BY partition FOR UPDATE`),
      [key, partitions],
    );
    const positions = new Map(rows.map((row) => [Number(row.partition), BigInt(row.next_offset)]));
    const fresh = records.filter((r) => r.offset >= (positions.get(r.partition) ?? 0n));
    if (fresh.length === 0) return 0;
    const movements = fresh.flatMap((r) => (r.movement ? [r.movement] : []));
    if (target.projection === "interactions")
      await writeInteractions(client, target, foldInteractions(movements.map(evolveInteractions)));
    else await writeBranches(client, target, foldBranches(movements.map(evolveBranches)));
    const next = new Map<number, bigint>();
    for (const r of fresh)
      next.set(
        r.partition,
        r.offset + 1n > (next.get(r.partition) ?? 0n) ? r.offset + 1n : (next.get(r.partition) ?? 0n),
      );
    await client.query(
      prepared(`UPDATE insights_positions p SET next_offset = n.next_offset
        FROM unnest($2::int[], $3::bigint[]) AS n(partition, next_offset)
        WHERE p.projection = $1 AND p.partition = n.partition`),
      [key, [...next.keys()], [...next.values()].map(String)],
    );
    return fresh.length;
  });
}

/** Sorted by key, so that concurrent batches (partitions on several processes) lock rows in one order. */
const sortedBy = <T>(rows: readonly T[], keyOf: (row: T) => string) =>
  [...rows].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

async function writeInteractions(client: Client, target: ProjectionTarget, change: InteractionsChange) {
  const interactions = sortedBy(
    change.interactions,
    (d) => `${d.clientId}\u0000${d.counterpartyId}\u0000${d.asset}`,
  );
  const table = tableOf(target, "insights_interactions");
  if (interactions.length > 0) {
    const col = <T>(pick: (d: (typeof interactions)[number]) => T) => interactions.map(pick);
    await client.query(
      prepared(`INSERT INTO ${table} AS t (client_id, counterparty_id, asset, sent_count, sent_total, received_count,
                                  received_total, first_at_ms, last_at_ms, counterparty_iban)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[], $6::bigint[],
                             $7::numeric[], $8::bigint[], $9::bigint[], $10::text[])
        ON CONFLICT (client_id, counterparty_id, asset) DO UPDATE SET
          sent_count = t.sent_count + EXCLUDED.sent_count, sent_total = t.sent_total + EXCLUDED.sent_total,
          received_count = t.received_count + EXCLUDED.received_count,
          received_total = t.received_total + EXCLUDED.received_total,
          first_at_ms = LEAST(t.first_at_ms, EXCLUDED.first_at_ms),
          last_at_ms = GREATEST(t.last_at_ms, EXCLUDED.last_at_ms),
          counterparty_iban = CASE WHEN EXCLUDED.last_at_ms >= t.last_at_ms
                                   THEN EXCLUDED.counterparty_iban ELSE t.counterparty_iban END`),
      [
        col((d) => d.clientId),
        col((d) => d.counterpartyId),
        col((d) => d.asset),
        col((d) => String(d.sentCount)),
        col((d) => String(d.sentTotal)),
        col((d) => String(d.receivedCount)),
        col((d) => String(d.receivedTotal)),
        col((d) => String(d.firstAtMs)),
        col((d) => String(d.lastAtMs)),
        col((d) => d.counterpartyIban),
      ],
    );
  }
  const rows = change.transactions;
  if (rows.length === 0) return;
  const col = <T>(pick: (d: (typeof rows)[number]) => T) => rows.map(pick);
  await client.query(
    prepared(`INSERT INTO ${tableOf(target, "insights_transactions")} (client_id, command_id, transfer_id, iban,
                                counterparty, counterparty_id, amount, asset, description, at_ms)
      SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                           $8::text[], $9::text[], $10::bigint[])
      ON CONFLICT DO NOTHING`),
    [
      col((d) => d.clientId),
      col((d) => d.commandId),
      col((d) => d.transferId),
      col((d) => d.iban),
      col((d) => d.counterparty),
      col((d) => d.counterpartyId ?? null),
      col((d) => String(d.amount)),
      col((d) => d.asset),
      col((d) => d.description),
      col((d) => String(d.atMs)),
    ],
  );
}

// long-function: one statement per read model of the projection, each a column list
async function writeBranches(client: Client, target: ProjectionTarget, change: BranchesChange) {
  const { branches, operations } = change;
  if (branches.length > 0)
    // The earliest sighting names the branch, whatever order partitions are read in (rebuilds agree).
    await client.query(
      prepared(`INSERT INTO insights_branches AS b (id, key, name, first_at_ms)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
        ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, first_at_ms = EXCLUDED.first_at_ms
        WHERE EXCLUDED.first_at_ms < b.first_at_ms`),
      [
        branches.map((b) => b.id),
        branches.map((b) => b.key),
        branches.map((b) => b.name),
        branches.map((b) => String(b.firstAtMs)),
      ],
    );
  const clientBranches = sortedBy(change.clientBranches, (d) => `${d.clientId}\u0000${d.branchId}`);
  if (clientBranches.length > 0)
    await client.query(
      prepared(`INSERT INTO ${tableOf(target, "insights_client_branches")} AS t
          (client_id, branch_id, deposits, withdrawals, first_at_ms, last_at_ms)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
        ON CONFLICT (client_id, branch_id) DO UPDATE SET
          deposits = t.deposits + EXCLUDED.deposits, withdrawals = t.withdrawals + EXCLUDED.withdrawals,
          first_at_ms = LEAST(t.first_at_ms, EXCLUDED.first_at_ms),
          last_at_ms = GREATEST(t.last_at_ms, EXCLUDED.last_at_ms)`),
      [
        clientBranches.map((d) => d.clientId),
        clientBranches.map((d) => d.branchId),
        clientBranches.map((d) => String(d.deposits)),
        clientBranches.map((d) => String(d.withdrawals)),
        clientBranches.map((d) => String(d.firstAtMs)),
        clientBranches.map((d) => String(d.lastAtMs)),
      ],
    );
  const volumes = sortedBy(change.volumes, (d) => `${d.branchId}\u0000${d.asset}`);
  if (volumes.length > 0)
    await client.query(
      prepared(`INSERT INTO ${tableOf(target, "insights_branch_volumes")} AS t
          (branch_id, asset, deposits, withdrawals, deposited, withdrawn)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::numeric[], $6::numeric[])
        ON CONFLICT (branch_id, asset) DO UPDATE SET
          deposits = t.deposits + EXCLUDED.deposits, withdrawals = t.withdrawals + EXCLUDED.withdrawals,
          deposited = t.deposited + EXCLUDED.deposited, withdrawn = t.withdrawn + EXCLUDED.withdrawn`),
      [
        volumes.map((d) => d.branchId),
        volumes.map((d) => d.asset),
        volumes.map((d) => String(d.deposits)),
        volumes.map((d) => String(d.withdrawals)),
        volumes.map((d) => String(d.deposited)),
        volumes.map((d) => String(d.withdrawn)),
      ],
    );
  if (operations.length > 0)
    await client.query(
      prepared(`INSERT INTO ${tableOf(target, "insights_operations")}
          (client_id, command_id, kind, iban, branch_id, amount, asset, at_ms)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::bigint[], $7::text[],
                             $8::bigint[])
        ON CONFLICT DO NOTHING`),
      [
        operations.map((o) => o.clientId),
        operations.map((o) => o.commandId),
        operations.map((o) => o.kind),
        operations.map((o) => o.iban),
        operations.map((o) => o.branchId),
        operations.map((o) => String(o.amount)),
        operations.map((o) => o.asset),
        operations.map((o) => String(o.atMs)),
      ],
    );
}

/** Fresh, empty `<table>_next` tables and no positions: where a rebuild replays the log into. */
export async function prepareRebuild(pool: pg.Pool, projection: ProjectionName): Promise<void> {
  await inTransaction(pool, async (client) => {
    for (const table of projectionTables[projection]) {
      await client.query(`DROP TABLE IF EXISTS ${table}_next`);
      await client.query(`CREATE TABLE ${table}_next (LIKE ${table} INCLUDING ALL)`);
    }
    await client.query("DELETE FROM insights_positions WHERE projection = $1", [`${projection}:rebuild`]);
  });
}

/**
 * Puts the rebuilt tables in place of the live ones, if the rebuild has applied at least everything
 * the live projection has (else false: replay further and try again). Under the exclusive lock no
 * live batch runs; afterwards the live projection skips what the rebuilt positions already cover.
 */
export async function swapRebuild(pool: pg.Pool, projection: ProjectionName): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query(lockSql("exclusive"), [projection]);
    const [live, rebuilt] = await Promise.all([
      readPositions(client, projection),
      readPositions(client, `${projection}:rebuild`),
    ]);
    for (const [partition, next] of live) if ((rebuilt.get(partition) ?? 0n) < next) return false;
    for (const table of projectionTables[projection]) {
      await client.query(`DROP TABLE ${table}`);
      await client.query(`ALTER TABLE ${table}_next RENAME TO ${table}`);
    }
    await client.query("DELETE FROM insights_positions WHERE projection = $1", [projection]);
    await client.query("UPDATE insights_positions SET projection = $1 WHERE projection = $2", [
      projection,
      `${projection}:rebuild`,
    ]);
    return true;
  });
}
