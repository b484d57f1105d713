/**
 * The insights projections at run time: a consumer group per projection on the ledger's published
 * outcomes (`insights-interactions`, `insights-branches`), the rebuild from the log (replay from
 * offset 0 into fresh tables, then swap), and each projection's lag (log end minus positions).
 */
import type pg from "pg";
import { Gauge, type Registry } from "prom-client";
import { branchKey, type LedgerApi, outcomeFromAvro, systemOwnerPrefix } from "../ledger/index.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import { type RunningConsumer, runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import type { Movement } from "./domain/evolve.ts";
import {
  applyBatch,
  type PositionedMovement,
  type ProjectionName,
  positionsKeyOf,
  prepareRebuild,
  projectionNames,
  readPositions,
  swapRebuild,
} from "./projection-store.ts";

/** What the projections read from the ledger's door: the outcomes codec and IBAN owners. */
export interface ProjectionLedger {
  readonly codecs: Pick<LedgerApi["codecs"], "outcomes">;
  readonly queries: Pick<LedgerApi["queries"], "ownerOfIban">;
}

export const groupIdOf = (projection: ProjectionName) => `insights-${projection}`;

/** The branch's stable id: the same in every rebuild, whoever saw it first. */
export const branchIdOf = (key: string) => derivedUuid(`insights-branch:${key}`);

/** Decodes outcome records into movements, with the client (user) behind each IBAN. */
export function movementReader(ledger: ProjectionLedger) {
  const client = async (iban: string) => {
    const owner = await ledger.queries.ownerOfIban(iban);
    return owner === undefined || owner.startsWith(systemOwnerPrefix) ? undefined : owner;
  };
  const movementOf = async (record: LogRecord): Promise<Movement | undefined> => {
    const envelope = outcomeFromAvro(ledger.codecs.outcomes.decode(record.value));
    const outcome = envelope.outcome;
    if (outcome.type !== "MoneyTransferConfirmed") return undefined;
    const [debitClient, creditClient] = await Promise.all([
      client(outcome.debitIban),
      client(outcome.creditIban),
    ]);
    const key = outcome.branch === undefined ? undefined : branchKey(outcome.branch);
    return {
      ...{ commandId: envelope.commandId, transferId: outcome.transferId, kind: outcome.kind },
      ...{ phase: outcome.phase, debitIban: outcome.debitIban, creditIban: outcome.creditIban },
      ...{ debitClient, creditClient, amount: outcome.amount, asset: outcome.asset },
      description: outcome.description,
      branch: key === undefined ? undefined : { id: branchIdOf(key), key, name: outcome.branch ?? key },
      atMs: envelope.atMs,
    };
  };
  return (records: readonly LogRecord[]): Promise<PositionedMovement[]> =>
    Promise.all(
      records.map(async (record) => ({
        partition: record.partition,
        offset: record.offset,
        movement: await movementOf(record),
      })),
    );
}

export interface ProjectionRunOptions {
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly ledger: ProjectionLedger;
  readonly batchSizeMax: number;
  readonly onDeadLetter: (record: LogRecord, error: unknown) => void;
}

/** The live consumer of one projection (its own group, from the earliest record). */
export function runProjection(
  projection: ProjectionName,
  options: ProjectionRunOptions,
): Promise<RunningConsumer> {
  const read = movementReader(options.ledger);
  const target = { projection, rebuild: false };
  return runConsumer(options.log, {
    groupId: groupIdOf(projection),
    topics: [options.ledger.codecs.outcomes.topic],
    batchSizeMax: options.batchSizeMax,
    fetchWaitMaxMs: 50,
    startFrom: "earliest",
    retry: { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
    handle: async (records) => void (await applyBatch(options.pool, target, await read(records))),
    onDeadLetter: options.onDeadLetter,
  });
}

export interface RebuildProgress {
  readonly projection: ProjectionName;
  readonly applied: bigint;
  readonly total: bigint;
  readonly done: boolean;
}

export interface RebuildOptions {
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly ledger: ProjectionLedger;
  /** Records read per `Log.read` call. */
  readonly readBatchMax: number;
  /** Swap attempts before giving up (each replays what the live projection got ahead by). */
  readonly swapAttemptsMax: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

/** Replays from the rebuild's positions to the log end as it is now; returns records read. */
async function replayToEnd(
  projection: ProjectionName,
  options: RebuildOptions,
  read: ReturnType<typeof movementReader>,
) {
  const topic = options.ledger.codecs.outcomes.topic;
  const target = { projection, rebuild: true };
  const ends = await options.log.admin().endOffsets(topic);
  const total = ends.reduce((sum, end) => sum + end, 0n);
  const positions = await readPositions(options.pool, positionsKeyOf(target));
  let applied = [...positions.values()].reduce((sum, next) => sum + next, 0n);
  for (const [partition, end] of ends.entries()) {
    let next = positions.get(partition) ?? 0n;
    while (next < end) {
      const records = await options.log.read(topic, partition, next, options.readBatchMax);
      if (records.length === 0) break;
      await applyBatch(options.pool, target, await read(records));
      next = (records.at(-1)?.offset ?? next) + 1n;
      applied += BigInt(records.length);
      options.onProgress?.({ projection, applied, total, done: false });
    }
  }
  return { applied, total };
}

/**
 * Rebuilds `projection` from the whole log into fresh tables, then swaps them in: the live
 * projection keeps running meanwhile (and is at most briefly paused by the swap's lock).
 */
export async function rebuildProjection(projection: ProjectionName, options: RebuildOptions) {
  const read = movementReader(options.ledger);
  await prepareRebuild(options.pool, projection);
  for (let attempt = 1; attempt <= options.swapAttemptsMax; attempt++) {
    const { applied, total } = await replayToEnd(projection, options, read);
    if (await swapRebuild(options.pool, projection)) {
      options.onProgress?.({ projection, applied, total, done: true });
      return { records: applied };
    }
  }
  throw new Error(
    `rebuild of ${projection}: the live projection kept ahead after ${options.swapAttemptsMax} swaps`,
  );
}

/** `ledgerflow_projection_lag_records{projection}`: log end minus the projection's positions, per scrape. */
export function registerLagMetric(registry: Registry, options: { pool: pg.Pool; log: Log; topic: string }) {
  const name = "ledgerflow_projection_lag_records";
  registry.removeSingleMetric(name);
  return new Gauge({
    name,
    help: "Records of ledger.outcomes not yet applied by an insights projection (log end minus its positions)",
    labelNames: ["projection"],
    registers: [registry],
    async collect() {
      // A scrape while the log or database is away keeps the last numbers rather than failing /metrics.
      const lag = await projectionLag(options).catch(() => undefined);
      for (const [projection, records] of Object.entries(lag ?? {}))
        this.set({ projection }, Number(records));
    },
  });
}

/** The lag of each projection now (the metric's numbers, for tools and tests). */
export async function projectionLag(options: { pool: pg.Pool; log: Log; topic: string }) {
  const ends = await options.log.admin().endOffsets(options.topic);
  const lag: Record<string, bigint> = {};
  for (const projection of projectionNames) {
    const positions = await readPositions(options.pool, projection);
    lag[projection] = ends.reduce((sum, end, partition) => sum + end - (positions.get(partition) ?? 0n), 0n);
  }
  return lag as Record<ProjectionName, bigint>;
}
