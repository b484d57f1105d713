/** The Kafka adapter's topic administration and group-less reads (see kafka.ts). */
import {
  type Admin,
  ConfigResourceTypes,
  ConfigSources,
  type Consumer as KafkaConsumer,
  ListOffsetTimestamps,
} from "@platformatic/kafka";
import { assert } from "../../errors.ts";
import type { LogAdmin, LogRecord, TopicDescription, TopicSpec } from "../port.ts";
import { controlBatchAttribute, guard, toHeaders } from "./kafka-codec.ts";

type FetchRequestTopic = Parameters<KafkaConsumer["fetch"]>[0]["topics"][number];
type TopicMetadata = NonNullable<ReturnType<Awaited<ReturnType<Admin["metadata"]>>["topics"]["get"]>>;
type ConfigEntries = Awaited<ReturnType<Admin["describeConfigs"]>>[number]["configs"];

export function kafkaLogAdmin(admin: () => Admin, reader: () => KafkaConsumer): LogAdmin {
  return {
    async createTopics(specs: readonly TopicSpec[]) {
      const existing = new Set(await guard("list topics", () => admin().listTopics()));
      for (const spec of specs) {
        if (existing.has(spec.name)) continue;
        await guard(`create topic ${spec.name}`, () =>
          admin().createTopics({
            topics: [spec.name],
            partitions: spec.partitions,
            replicas: spec.replicationFactor,
            configs: [
              { name: "retention.ms", value: String(spec.retentionMs) },
              { name: "cleanup.policy", value: spec.cleanupPolicy },
            ],
          }),
        ).catch(async (error: unknown) => {
          // Another process may have created it between our list and create: the goal is met.
          const now = await guard("list topics", () => admin().listTopics());
          if (!now.includes(spec.name)) throw error;
        });
      }
    },
    async listTopics() {
      const names = await guard("list topics", () => admin().listTopics());
      if (names.length === 0) return [];
      const metadata = await guard("metadata", () => admin().metadata({ topics: names, forceUpdate: true }));
      const configs = await guard("describe configs", () =>
        admin().describeConfigs({
          resources: names.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name })),
        }),
      );
      const configByTopic = new Map(
        configs.map((description) => [description.resourceName, description.configs]),
      );
      return names
        .sort()
        .map((name) => describeTopic(name, metadata.topics.get(name), configByTopic.get(name)));
    },
    async deleteTopics(names) {
      if (names.length === 0) return;
      await guard("delete topics", () => admin().deleteTopics({ topics: [...names] }));
    },
    async endOffsets(topic) {
      const offsets = await guard("list offsets", () =>
        reader().listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST }),
      );
      return offsets.get(topic) ?? [];
    },
    committedOffsets: (groupId, topic) => committedOffsetsOf(admin, reader, groupId, topic),
  };
}

/** A topic as the log port describes it: partitions, replication, and the configs that matter. */
function describeTopic(
  name: string,
  topic: TopicMetadata | undefined,
  entries: ConfigEntries | undefined,
): TopicDescription {
  const config: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const wanted = entry.name === "retention.ms" || entry.name === "cleanup.policy";
    if (
      (wanted || entry.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG) &&
      typeof entry.value === "string"
    ) {
      config[entry.name] = entry.value;
    }
  }
  return {
    name,
    partitions: topic?.partitionsCount ?? 0,
    replicationFactor: topic?.partitions[0]?.replicas.length ?? 0,
    config,
  };
}

/** A group-less fetch from the partition leader: up to `limit` records from `fromOffset`. */
export async function readPartition(
  reader: () => KafkaConsumer,
  topic: string,
  partition: number,
  fromOffset: bigint,
  limit: number,
): Promise<LogRecord[]> {
  const client = reader();
  const out: LogRecord[] = [];
  let offset = fromOffset;
  while (out.length < limit) {
    const metadata = await guard("metadata", () => client.metadata({ topics: [topic] }));
    const topicMetadata = metadata.topics.get(topic);
    const leader = topicMetadata?.partitions[partition];
    assert(topicMetadata !== undefined && leader !== undefined, `${topic}/${partition} exists`);
    const request: FetchRequestTopic = {
      topicId: topicMetadata.id,
      partitions: [
        {
          partition,
          fetchOffset: offset,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
          partitionMaxBytes: 4 * 1024 * 1024,
        },
      ],
    };
    const response = await guard("fetch", () =>
      client.fetch({ node: leader.leader, topics: [request], maxWaitTime: 0, minBytes: 1 }),
    );
    const before = out.length;
    let highWatermark = offset;
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        highWatermark = partitionResponse.highWatermark;
        for (const batch of partitionResponse.records ?? []) {
          if ((batch.attributes & controlBatchAttribute) !== 0) {
            offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
            continue;
          }
          for (const record of batch.records) {
            const recordOffset = batch.firstOffset + BigInt(record.offsetDelta);
            if (recordOffset < offset || out.length >= limit) continue;
            out.push({
              topic,
              partition,
              offset: recordOffset,
              key: record.key?.toString("utf8") ?? "",
              value: new Uint8Array(record.value ?? Buffer.alloc(0)),
              headers: toHeaders(record.headers),
              timestampMs: Number(batch.firstTimestamp + record.timestampDelta),
            });
            offset = recordOffset + 1n;
          }
        }
      }
    }
    if (out.length === before || offset >= highWatermark) break;
  }
  return out;
}

/** The group's committed offset per partition of `topic` (undefined where none is committed). */
async function committedOffsetsOf(
  admin: () => Admin,
  reader: () => KafkaConsumer,
  groupId: string,
  topic: string,
): Promise<(bigint | undefined)[]> {
  const metadata = await guard("metadata", () => reader().metadata({ topics: [topic] }));
  const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
  const partitionIndexes = Array.from({ length: count }, (_, index) => index);
  const groups = await guard("committed offsets", () =>
    admin().listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes }] }],
    }),
  );
  const committed: (bigint | undefined)[] = Array.from({ length: count }, () => undefined);
  for (const group of groups) {
    for (const entry of group.topics) {
      if (entry.name !== topic) continue;
      for (const partition of entry.partitions) {
        if (partition.committedOffset >= 0n) committed[partition.partitionIndex] = partition.committedOffset;
      }
    }
  }
  return committed;
}
