/**
 * Identity's profile projection of the community context's published events (issue 15 "Profiles",
 * the seed's CQRS design): consumer group `identity-profiles` on `community.events`, started where
 * projections run. Each batch is decoded, turned into facts (`community-facts.ts`) and applied in one
 * transaction (`community-store.ts`, idempotent by processed key). A record that cannot be decoded or
 * breaks the contract goes to `community.events.dlq` (the platform's dead-letter path) and the loop
 * goes on; `ledgerflow_identity_profiles_lag_records` says how far behind the group is.
 */
import type pino from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { type RunningConsumer, runConsumer } from "../../platform/log/consumer.ts";
import type { Log, LogRecord } from "../../platform/log/port.ts";
import type { TopicCodec } from "../../platform/log/topic-codecs.ts";
import { communityFactsOf } from "./community-facts.ts";
import type { CommunityStatsStore } from "./community-store.ts";

export const profilesGroupId = "identity-profiles";
/** Records per batch (one transaction each). */
const batchSizeMax = 500;

export interface CommunityFeedOptions {
  readonly log: Log;
  /** The codec of `community.events` (built from the community context's declaration). */
  readonly codec: TopicCodec;
  readonly stats: CommunityStatsStore;
  readonly logger: pino.Logger;
  readonly metricsRegistry: Registry;
}

/** Starts the `identity-profiles` consumer from the earliest record and registers its metrics. */
export async function runCommunityFeed(options: CommunityFeedOptions): Promise<RunningConsumer> {
  const { log, codec, stats, logger } = options;
  const deadLetters = registerFeedMetrics(options.metricsRegistry, log, codec.topic);
  return runConsumer(log, {
    groupId: profilesGroupId,
    topics: [codec.topic],
    batchSizeMax,
    fetchWaitMaxMs: 50,
    startFrom: "earliest",
    retry: { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
    // Decoding throws PoisonMessageError for bytes that are not a community event.
    handle: (records) =>
      stats.apply(records.flatMap((record) => communityFactsOf(codec.decode(record.value)))),
    onDeadLetter: (record: LogRecord, error: unknown) => {
      deadLetters.inc();
      logger.error(
        { err: error, partition: record.partition, offset: String(record.offset) },
        "identity profiles: community event dead-lettered",
      );
    },
  });
}

/** Records of `topic` the group has not committed yet (log end minus committed, per partition). */
export async function communityFeedLag(log: Log, topic: string): Promise<bigint> {
  const admin = log.admin();
  const [ends, committed] = await Promise.all([
    admin.endOffsets(topic),
    admin.committedOffsets(profilesGroupId, topic),
  ]);
  return ends.reduce((sum, end, partition) => sum + end - (committed[partition] ?? 0n), 0n);
}

function registerFeedMetrics(registry: Registry, log: Log, topic: string) {
  const lagName = "ledgerflow_identity_profiles_lag_records";
  const deadLettersName = "ledgerflow_identity_profiles_dead_letters_total";
  // A restart in the same process (tests) registers them again.
  registry.removeSingleMetric(lagName);
  registry.removeSingleMetric(deadLettersName);
  new Gauge({
    name: lagName,
    help: "Records of community.events not yet applied to identity's profiles (log end minus committed)",
    registers: [registry],
    async collect() {
      // A scrape while the log is away keeps the last number rather than failing /metrics.
      const lag = await communityFeedLag(log, topic).catch(() => undefined);
      if (lag !== undefined) this.set(Number(lag));
    },
  });
  return new Counter({
    name: deadLettersName,
    help: "community.events records identity's profiles dead-lettered (undecodable or breaking the contract)",
    registers: [registry],
  });
}
