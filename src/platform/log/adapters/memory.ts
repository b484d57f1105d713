import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "../../clock.ts";
import { InfrastructureError } from "../../errors.ts";
import { type GroupBackend, GroupCoordinator, realTimers, type Timers, unknownTopic } from "../group.ts";
import { partitionForKey } from "../partitioner.ts";
import type {
  Log,
  LogAdmin,
  LogRecord,
  OutgoingRecord,
  Producer,
  RecordPosition,
  TopicDescription,
  TopicSpec,
} from "../port.ts";

export interface MemoryLogOptions {
  /** Record timestamps. */
  readonly clock?: Clock;
  /** Fetch waits and retry backoffs; inject to drive time in a simulation. */
  readonly timers?: Timers;
}

interface MemoryTopic {
  readonly spec: TopicSpec;
  readonly partitions: LogRecord[][];
}

/**
 * The log in memory, with the semantics of the PostgreSQL adapter (same group machinery) but not
 * durable: for unit tests and seeded simulations.
 */
export function createMemoryLog(options: MemoryLogOptions = {}): Log {
  const store = new MemoryStore(options.clock ?? systemClock);
  const coordinator = new GroupCoordinator(memoryBackend(store, options));
  const producer = memoryProducer(store);
  const admin = memoryAdmin(store);
  return {
    kind: "memory",
    producer: () => producer,
    consumer: (consumerOptions) => coordinator.consumer(consumerOptions),
    admin: () => admin,
    async read(topic, partition, fromOffset, limit) {
      const records = store.topicOf(topic).partitions[partition] ?? [];
      return records.slice(Number(fromOffset), Number(fromOffset) + limit);
    },
    async close() {
      await coordinator.stopAll();
      store.closed = true;
    },
  };
}

const offsetKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The topics, committed offsets and append signals of one memory log. */
class MemoryStore {
  readonly topics = new Map<string, MemoryTopic>();
  readonly committed = new Map<string, Map<string, bigint>>();
  readonly appends = new EventEmitter();
  readonly clock: Clock;
  closed = false;

  constructor(clock: Clock) {
    this.clock = clock;
    this.appends.setMaxListeners(0);
  }

  topicOf(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw unknownTopic(name);
    return topic;
  }

  ensureOpen(): void {
    if (this.closed) throw new InfrastructureError("log_closed", "the log is closed");
  }
}

function memoryBackend(store: MemoryStore, options: MemoryLogOptions): GroupBackend {
  return {
    pollIntervalMs: Number.POSITIVE_INFINITY,
    failureBackoffMs: 100,
    timers: options.timers ?? realTimers,
    async partitionCount(topic) {
      return store.topicOf(topic).partitions.length;
    },
    async fetch(requests, recordsMax) {
      return requests.map(({ topic, partition, fromOffset }) => {
        const records = store.topics.get(topic)?.partitions[partition] ?? [];
        const from = Number(fromOffset);
        return records.slice(from, from + recordsMax);
      });
    },
    async endOffset(topic, partition) {
      return BigInt(store.topicOf(topic).partitions[partition]?.length ?? 0);
    },
    async committedOffset(groupId, topic, partition) {
      return store.committed.get(groupId)?.get(offsetKey(topic, partition));
    },
    async commit(groupId, offsets) {
      store.ensureOpen();
      let group = store.committed.get(groupId);
      if (!group) {
        group = new Map();
        store.committed.set(groupId, group);
      }
      for (const { topic, partition, nextOffset } of offsets)
        group.set(offsetKey(topic, partition), nextOffset);
    },
    onAppend(topic, listener) {
      store.appends.on(topic, listener);
      return () => store.appends.off(topic, listener);
    },
  };
}

function memoryProducer(store: MemoryStore): Producer {
  return {
    async send(records: readonly OutgoingRecord[]): Promise<readonly RecordPosition[]> {
      store.ensureOpen();
      // Validate everything first: a call is all or nothing.
      const placed = records.map((record) => {
        const topic = store.topicOf(record.topic);
        const partition = record.partition ?? partitionForKey(record.key, topic.partitions.length);
        const log = topic.partitions[partition];
        if (!log) throw new RangeError(`topic ${record.topic} has no partition ${partition}`);
        return { record, partition, log };
      });
      await Promise.resolve();
      const timestampMs = store.clock.nowMs();
      const touched = new Set<string>();
      const positions = placed.map(({ record, partition, log }) => {
        const offset = BigInt(log.length);
        log.push({
          topic: record.topic,
          partition,
          offset,
          key: record.key,
          value: record.value,
          headers: { ...record.headers },
          timestampMs,
        });
        touched.add(offsetKey(record.topic, partition));
        return { topic: record.topic, partition, offset };
      });
      for (const key of touched) {
        const [topic, partition] = key.split("\u0000") as [string, string];
        store.appends.emit(topic, Number(partition));
      }
      return positions;
    },
  };
}

function memoryAdmin(store: MemoryStore): LogAdmin {
  return {
    async createTopics(specs) {
      for (const spec of specs) {
        if (store.topics.has(spec.name)) continue;
        if (!(spec.partitions >= 1)) throw new RangeError(`topic ${spec.name} needs at least one partition`);
        store.topics.set(spec.name, { spec, partitions: Array.from({ length: spec.partitions }, () => []) });
      }
    },
    async listTopics() {
      return [...store.topics.values()].map(({ spec }) => describeTopic(spec));
    },
    async deleteTopics(names) {
      for (const name of names) {
        store.topics.delete(name);
        for (const group of store.committed.values()) {
          for (const key of group.keys()) if (key.startsWith(`${name}\u0000`)) group.delete(key);
        }
      }
    },
    async endOffsets(topic) {
      return store.topicOf(topic).partitions.map((p) => BigInt(p.length));
    },
    async committedOffsets(groupId, topic) {
      const group = store.committed.get(groupId);
      return store.topicOf(topic).partitions.map((_, partition) => group?.get(offsetKey(topic, partition)));
    },
  };
}

export function describeTopic(spec: TopicSpec): TopicDescription {
  return {
    name: spec.name,
    partitions: spec.partitions,
    replicationFactor: spec.replicationFactor,
    config: { "retention.ms": String(spec.retentionMs), "cleanup.policy": spec.cleanupPolicy },
  };
}
