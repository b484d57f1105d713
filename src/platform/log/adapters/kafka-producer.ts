/**
 * The Kafka adapter's producer: linger-style coalescing. The idempotent producer allows one request
 * in flight per broker connection, so one produce request per `send` (per HTTP command) caps
 * throughput at one round trip per command. Sends are queued instead: while a request is in flight,
 * and for `lingerMs` when idle, sends collect and then leave together in one request (up to
 * `produceBytesMax`), each caller resolved with its own offsets. FIFO with one request in flight
 * keeps the order of sends, also across callers.
 */
import type { Admin, Producer as KafkaProducer } from "@platformatic/kafka";
import { assert } from "../../errors.ts";
import { unknownTopic } from "../group.ts";
import { partitionForKey } from "../partitioner.ts";
import type { OutgoingRecord, Producer, RecordPosition } from "../port.ts";
import { partitionKey, recordBytes, toMessage, unavailable } from "./kafka-codec.ts";

/** One produce request to the broker: how many sends it carried and where their time went. */
export interface ProduceSample {
  readonly sends: number;
  readonly records: number;
  readonly bytes: number;
  /** Longest a send waited in the producer before its request left. */
  readonly queuedMsMax: number;
  /** Request sent → acknowledged by the broker (acks=all). */
  readonly roundTripMs: number;
}

interface QueuedSend {
  readonly records: readonly OutgoingRecord[];
  readonly bytes: number;
  readonly queuedAtMs: number;
  readonly resolve: (positions: readonly RecordPosition[]) => void;
  readonly reject: (error: unknown) => void;
}

/** A send placed on partitions: each record's partition and its index among the request's records there. */
interface PlacedSend {
  readonly queued: QueuedSend;
  readonly partitions: number[];
}

export interface LingerProducerOptions {
  readonly lingerMs: number;
  readonly produceBytesMax: number;
  readonly onProduce?: ((sample: ProduceSample) => void) | undefined;
  /** The producer client, created on first use. */
  readonly client: () => KafkaProducer;
  /** The admin client, to tell a missing topic from an unavailable broker. */
  readonly admin: () => Admin;
}

export class LingerProducer implements Producer {
  private readonly options: LingerProducerOptions;
  private readonly queue: QueuedSend[] = [];
  private queuedBytes = 0;
  private produceInFlight: Promise<void> | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: LingerProducerOptions) {
    this.options = options;
  }

  send(records: readonly OutgoingRecord[]): Promise<readonly RecordPosition[]> {
    if (records.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(unavailable("producer closed", undefined));
    const { promise, resolve, reject } = Promise.withResolvers<readonly RecordPosition[]>();
    const bytes = records.reduce((sum, record) => sum + recordBytes(record), 0);
    this.queue.push({ records, bytes, queuedAtMs: performance.now(), resolve, reject });
    this.queuedBytes += bytes;
    this.scheduleProduce();
    return promise;
  }

  /** Lets queued sends go out before the producer closes (bounded by the client's own timeouts). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.produceInFlight !== undefined) {
      if (this.produceInFlight === undefined) this.produceQueued();
      await this.produceInFlight;
    }
  }

  private scheduleProduce(): void {
    if (this.queue.length === 0 || this.produceInFlight !== undefined) return;
    if (this.queuedBytes >= this.options.produceBytesMax || this.options.lingerMs <= 0) {
      this.produceQueued();
      return;
    }
    this.lingerTimer ??= setTimeout(() => this.produceQueued(), this.options.lingerMs);
  }

  private produceQueued(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const { queue } = this;
    if (queue.length === 0 || this.produceInFlight !== undefined) return;
    const sends: QueuedSend[] = [];
    let bytes = 0;
    while (queue.length > 0) {
      const next = queue[0] as QueuedSend;
      if (sends.length > 0 && bytes + next.bytes > this.options.produceBytesMax) break;
      queue.shift();
      bytes += next.bytes;
      sends.push(next);
    }
    this.queuedBytes -= bytes;
    this.produceInFlight = this.produce(this.options.client(), sends, bytes).finally(() => {
      this.produceInFlight = undefined;
      // What queued up meanwhile has already waited a round trip: send it right away.
      if (queue.length > 0) this.produceQueued();
    });
  }

  /**
   * Partition counts of the sends' topics. A metadata request naming a missing topic fails as a
   * whole, so on failure the sends naming one are rejected and the request is tried once more for
   * the rest. Returns the sends still live; undefined when none is.
   */
  private async partitionCountsOf(
    client: KafkaProducer,
    sends: readonly QueuedSend[],
  ): Promise<{ counts: Map<string, number>; live: Set<QueuedSend> } | undefined> {
    const topicsOf = (of: Iterable<QueuedSend>) => [
      ...new Set([...of].flatMap((queued) => queued.records.map((record) => record.topic))),
    ];
    const live = new Set(sends);
    for (let attempt = 1; ; attempt++) {
      const topics = topicsOf(live);
      try {
        const metadata = await client.metadata({ topics });
        const counts = new Map(
          topics.map((topic) => [topic, metadata.topics.get(topic)?.partitionsCount ?? 0]),
        );
        return { counts, live };
      } catch (cause) {
        const existing = attempt === 1 ? await this.existingTopics() : undefined;
        for (const queued of live) {
          const missing = existing && queued.records.find((record) => !existing.includes(record.topic));
          if (missing || existing === undefined) {
            queued.reject(missing ? unknownTopic(missing.topic) : unavailable("metadata", cause));
            live.delete(queued);
          }
        }
        if (live.size === 0) return undefined;
      }
    }
  }

  private existingTopics(): Promise<string[] | undefined> {
    return this.options
      .admin()
      .listTopics()
      .catch(() => undefined);
  }

  /** One produce request for `sends`; settles every send (never rejects itself). */
  private async produce(client: KafkaProducer, sends: readonly QueuedSend[], bytes: number): Promise<void> {
    const partitionCounts = await this.partitionCountsOf(client, sends);
    if (partitionCounts === undefined) return;
    const placed = placeSends(sends, partitionCounts);
    if (placed.length === 0) return;
    const indexes = indexesInPartition(placed);
    const sentMs = performance.now();
    let result: Awaited<ReturnType<KafkaProducer["send"]>>;
    try {
      result = await client.send({
        messages: placed.flatMap(({ queued, partitions }) =>
          queued.records.map((record, i) => toMessage(record, partitions[i] as number)),
        ),
      });
    } catch (cause) {
      // With auto-creation off, a deleted topic can linger in the client's metadata cache.
      const existing = await this.existingTopics();
      for (const { queued } of placed) {
        const missing = existing && queued.records.find((record) => !existing.includes(record.topic));
        queued.reject(missing ? unknownTopic(missing.topic) : unavailable("produce", cause));
      }
      return;
    }
    const acknowledgedMs = performance.now();
    resolvePositions(placed, indexes, result.offsets ?? []);
    this.options.onProduce?.({
      sends: placed.length,
      records: placed.reduce((sum, { queued }) => sum + queued.records.length, 0),
      bytes,
      queuedMsMax: sentMs - Math.min(...placed.map(({ queued }) => queued.queuedAtMs)),
      roundTripMs: acknowledgedMs - sentMs,
    });
  }
}

/** Each live send's records on their partitions; a send naming a topic that does not exist fails alone. */
function placeSends(
  sends: readonly QueuedSend[],
  partitionCounts: { counts: Map<string, number>; live: Set<QueuedSend> },
): PlacedSend[] {
  const placed: PlacedSend[] = [];
  for (const queued of sends) {
    if (!partitionCounts.live.has(queued)) continue;
    const missing = queued.records.find((record) => (partitionCounts.counts.get(record.topic) ?? 0) === 0);
    if (missing !== undefined) {
      queued.reject(unknownTopic(missing.topic));
      continue;
    }
    const partitions = queued.records.map((record) => {
      const count = partitionCounts.counts.get(record.topic) as number;
      const partition = record.partition ?? partitionForKey(record.key, count);
      assert(partition >= 0 && partition < count, `partition ${partition} exists in ${record.topic}`);
      return partition;
    });
    placed.push({ queued, partitions });
  }
  return placed;
}

/** Each record's index among the request's records of its partition: offset = base + index. */
function indexesInPartition(placed: readonly PlacedSend[]): bigint[][] {
  const indexInPartition = new Map<string, bigint>();
  return placed.map(({ queued, partitions }) =>
    queued.records.map((record, i) => {
      const key = partitionKey(record.topic, partitions[i] as number);
      const index = indexInPartition.get(key) ?? 0n;
      indexInPartition.set(key, index + 1n);
      return index;
    }),
  );
}

/** Resolves every send with its records' offsets from the acknowledged base offsets. */
function resolvePositions(
  placed: readonly PlacedSend[],
  indexes: readonly bigint[][],
  offsets: readonly { topic: string; partition: number; offset: bigint }[],
): void {
  const baseOffsets = new Map<string, bigint>();
  for (const { topic, partition, offset } of offsets) baseOffsets.set(partitionKey(topic, partition), offset);
  placed.forEach(({ queued, partitions }, sendIndex) => {
    try {
      queued.resolve(
        queued.records.map((record, i) => {
          const partition = partitions[i] as number;
          const baseOffset = baseOffsets.get(partitionKey(record.topic, partition));
          assert(baseOffset !== undefined, `broker acknowledged ${record.topic}/${partition}`);
          return {
            topic: record.topic,
            partition,
            offset: baseOffset + ((indexes[sendIndex] as bigint[])[i] as bigint),
          };
        }),
      );
    } catch (error) {
      queued.reject(error);
    }
  });
}
