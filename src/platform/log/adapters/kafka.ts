/**
 * The log port on Apache Kafka, with `@platformatic/kafka` (pure TypeScript client).
 *
 * - Producer: idempotent, acks=all. The partition of a keyed record is computed here with Kafka's
 *   murmur2 (partitioner.ts) from the topic's partition count, so the same key lands on the same
 *   partition as with the Java client and the embedded adapters (the client's own default hashes
 *   with `>>> 0` instead of Java's `& 0x7fffffff` and differs for negative hashes); it also tells us
 *   each record's offset (base offset of its partition + its index there).
 * - Consumer: classic consumer-group protocol; one long-lived fetch stream per member (re-creating a
 *   stream re-joins the group, which would rebalance every member). Offsets are committed by hand
 *   after `eachBatch` resolves, only for partitions still owned.
 *   Ordering and no-loss across rebalances rest on a per-partition position we keep ourselves
 *   (`#next`: the offset of the next record to queue). When a partition becomes ours (a join, or a
 *   cooperative revoke round that hands over a departed member's partitions) its position is the
 *   group's committed offset, read by us; until then its records are dropped. We queue only the
 *   record at the position: below it is a repeat (the stream rewinds to the committed offset after
 *   every rebalance); above it is a gap, and the stream is sent back to the position. Gaps happen:
 *   a fetch issued before a rebalance can answer after the stream's own rewind and move its fetch
 *   offset past records this member never queued (found by the fault test: a few hundred commands
 *   of a partition handed over in a revoke round were skipped). Records of partitions no longer
 *   owned are dropped and read by their new owner from the committed offset.
 * - `read()` is a group-less fetch from the partition leader.
 */
import {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  type Consumer as KafkaConsumer,
  Consumer as KafkaConsumerClient,
  Producer as KafkaProducer,
  ListOffsetTimestamps,
  type Message,
  type MessagesStream,
} from "@platformatic/kafka";
import { assert, UnavailableError } from "../../errors.ts";
import { unknownTopic } from "../group.ts";
import { partitionForKey } from "../partitioner.ts";
import type {
  BatchErrorDecision,
  Consumer,
  ConsumerOptions,
  EachBatch,
  Headers,
  Log,
  LogAdmin,
  LogRecord,
  OutgoingRecord,
  Producer,
  RecordPosition,
  TopicDescription,
  TopicSpec,
} from "../port.ts";

export interface KafkaLogOptions {
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** A member that misses heartbeats this long is removed from its group (partitions move). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Longest a rebalance waits for members to rejoin. */
  readonly rebalanceTimeoutMs?: number;
  /** Per-request timeout of the client. */
  readonly requestTimeoutMs?: number;
  /** Client-level retries of a failed request (connection loss, leader change) before it throws. */
  readonly retriesMax?: number;
  readonly retryDelayMs?: number;
  /** Records a consumer buffers ahead of its handler before it stops fetching. */
  readonly prefetchRecordsMax?: number;
  /**
   * How long an idle producer waits for more sends before it sends a request (Kafka's linger.ms).
   * While a request is in flight, sends collect anyway and leave as soon as it is acknowledged.
   */
  readonly lingerMs?: number;
  /** Largest produce request built from queued sends (one larger send still goes, alone). */
  readonly produceBytesMax?: number;
  /** Told about every produce request, for the benchmark and diagnostics. */
  readonly onProduce?: (sample: ProduceSample) => void;
  /** Told when a consumer repairs its position (a skipped range re-read), for logs. */
  readonly onConsumerWarning?: (message: string, details: Readonly<Record<string, string>>) => void;
  /**
   * Awaited before each lookup of the positions of newly owned partitions (the group's committed
   * offsets). For tests that place a group event (a member expelled) at that moment; none by default.
   */
  readonly beforePositionLookup?: (groupId: string) => Promise<void>;
}

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

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type FetchRequestTopic = Parameters<KafkaConsumer["fetch"]>[0]["topics"][number];

const defaults = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 15_000,
  requestTimeoutMs: 10_000,
  retriesMax: 10,
  retryDelayMs: 500,
  prefetchRecordsMax: 5_000,
  lingerMs: 1,
  // Below the broker's default message.max.bytes (1 MiB per partition batch) even if all in one partition.
  produceBytesMax: 900 * 1024,
};

const textEncoder = new TextEncoder();
const controlBatchAttribute = 0x20;

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function parsePartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf("\u0000");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** The key of a partition in the client's MessagesStream#offsetsToFetch. */
function streamPartitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * A record past the position (a gap) is normally transient: the stream is sent back to the position.
 * A gap is real only when the records are gone, i.e. retention moved the partition's log start past
 * the position before this group read them (the client then resets its fetch to the log start, and
 * every fetch lands past the position). Counting rewinds cannot tell the two apart — under churn a
 * transient gap outlived any count we tried and live records were skipped — so the broker decides:
 * once a gap has persisted through `rewindsBeforeStartCheck` rewinds (each counted at most once per
 * `rewindSpacingMs`, as one fetch response past the position carries many records), and again every
 * `rewindsBeforeStartCheck` rewinds after that, the partition's log start offset is looked up; the
 * position moves to it only if it lies beyond the position. Records that exist are never skipped.
 * (The topology has no compacted topics, the other source of real gaps; see topology.ts.)
 */
const rewindsBeforeStartCheck = 3;
/** Failed or incomplete position lookups in a row before the consumer says so in a warning. */
const positionAttemptsBeforeWarning = 10;
const rewindSpacingMs = 100;

function toHeaders(entries: Iterable<[Buffer | null, Buffer | null]>): Headers {
  const headers: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key !== null) headers[key.toString("utf8")] = value?.toString("utf8") ?? "";
  }
  return headers;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function unavailable(what: string, cause: unknown): UnavailableError {
  return new UnavailableError(`Kafka (${what})`, { cause });
}

interface QueuedSend {
  readonly records: readonly OutgoingRecord[];
  readonly bytes: number;
  readonly queuedAtMs: number;
  readonly resolve: (positions: readonly RecordPosition[]) => void;
  readonly reject: (error: unknown) => void;
}

/** Per-record overhead in a record batch (length, attributes, deltas, header counts), roughly. */
const recordOverheadBytes = 24;

function recordBytes(record: OutgoingRecord): number {
  let bytes = recordOverheadBytes + record.key.length * 3 + record.value.byteLength;
  for (const [key, value] of Object.entries(record.headers ?? {})) bytes += (key.length + value.length) * 3;
  return bytes;
}

function toMessage(record: OutgoingRecord, partition: number) {
  return {
    topic: record.topic,
    key: Buffer.from(textEncoder.encode(record.key)),
    value: toBuffer(record.value),
    partition,
    headers: new Map(
      Object.entries(record.headers ?? {}).map(([key, value]) => [Buffer.from(key), Buffer.from(value)]),
    ),
  };
}

function messageToRecord(message: BufferMessage): LogRecord {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key?.toString("utf8") ?? "",
    value: new Uint8Array(message.value ?? Buffer.alloc(0)),
    headers: toHeaders(message.headerEntries),
    timestampMs: Number(message.timestamp),
  };
}

export function createKafkaLog(options: KafkaLogOptions): Log {
  const settings = { ...defaults, ...options };
  const base = {
    bootstrapBrokers: [...options.brokers],
    timeout: settings.requestTimeoutMs,
    retries: settings.retriesMax,
    retryDelay: settings.retryDelayMs,
  };
  let producerClient: KafkaProducer | undefined;
  let adminClient: Admin | undefined;
  let readerClient: KafkaConsumer | undefined;
  const consumers = new Set<KafkaGroupConsumer>();

  const admin = (): Admin => {
    adminClient ??= new Admin({ ...base, clientId: `${options.clientId}-admin` });
    return adminClient;
  };
  // A consumer client that never joins its group: metadata, offsets and group-less fetches.
  const reader = (): KafkaConsumer => {
    readerClient ??= new KafkaConsumerClient({
      ...base,
      clientId: `${options.clientId}-reader`,
      groupId: `${options.clientId}-reader-unused`,
      autocommit: false,
    });
    return readerClient;
  };

  // --- Producer: linger-style coalescing ---------------------------------------------------------
  // The idempotent producer allows one request in flight per broker connection, so one produce
  // request per `send` (per HTTP command) caps throughput at one round trip per command. Sends are
  // queued instead: while a request is in flight, and for `lingerMs` when idle, sends collect and
  // then leave together in one request (up to `produceBytesMax`), each caller resolved with its own
  // offsets. FIFO with one request in flight keeps the order of sends, also across callers.

  const queue: QueuedSend[] = [];
  let queuedBytes = 0;
  let produceInFlight: Promise<void> | undefined;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  let producerClosed = false;

  const producerOf = (): KafkaProducer => {
    producerClient ??= new KafkaProducer({
      ...base,
      clientId: `${options.clientId}-producer`,
      idempotent: true,
      acks: -1,
    });
    return producerClient;
  };

  const producer = (): Producer => ({
    send(records) {
      if (records.length === 0) return Promise.resolve([]);
      if (producerClosed) return Promise.reject(unavailable("producer closed", undefined));
      const { promise, resolve, reject } = Promise.withResolvers<readonly RecordPosition[]>();
      const bytes = records.reduce((sum, record) => sum + recordBytes(record), 0);
      queue.push({ records, bytes, queuedAtMs: performance.now(), resolve, reject });
      queuedBytes += bytes;
      scheduleProduce();
      return promise;
    },
  });

  function scheduleProduce(): void {
    if (queue.length === 0 || produceInFlight !== undefined) return;
    if (queuedBytes >= settings.produceBytesMax || settings.lingerMs <= 0) {
      produceQueued();
      return;
    }
    lingerTimer ??= setTimeout(produceQueued, settings.lingerMs);
  }

  function produceQueued(): void {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    if (queue.length === 0 || produceInFlight !== undefined) return;
    const sends: QueuedSend[] = [];
    let bytes = 0;
    while (queue.length > 0) {
      const next = queue[0] as QueuedSend;
      if (sends.length > 0 && bytes + next.bytes > settings.produceBytesMax) break;
      queue.shift();
      bytes += next.bytes;
      sends.push(next);
    }
    queuedBytes -= bytes;
    produceInFlight = produce(producerOf(), sends, bytes).finally(() => {
      produceInFlight = undefined;
      // What queued up meanwhile has already waited a round trip: send it right away.
      if (queue.length > 0) produceQueued();
    });
  }

  /**
   * Partition counts of the sends' topics. A metadata request naming a missing topic fails as a
   * whole, so on failure the sends naming one are rejected and the request is tried once more for
   * the rest. Returns the sends still live; undefined when none is.
   */
  async function partitionCountsOf(
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
        const existing =
          attempt === 1
            ? await admin()
                .listTopics()
                .catch(() => undefined)
            : undefined;
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

  /** One produce request for `sends`; settles every send (never rejects itself). */
  async function produce(client: KafkaProducer, sends: readonly QueuedSend[], bytes: number): Promise<void> {
    const partitionCounts = await partitionCountsOf(client, sends);
    if (partitionCounts === undefined) return;
    // A send naming a topic that does not exist fails alone; the others still go.
    const placed: { queued: QueuedSend; partitions: number[] }[] = [];
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
    if (placed.length === 0) return;
    // Each record's index among the request's records of its partition: offset = base + index.
    const indexInPartition = new Map<string, bigint>();
    const indexes = placed.map(({ queued, partitions }) =>
      queued.records.map((record, i) => {
        const key = partitionKey(record.topic, partitions[i] as number);
        const index = indexInPartition.get(key) ?? 0n;
        indexInPartition.set(key, index + 1n);
        return index;
      }),
    );
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
      const existing = await admin()
        .listTopics()
        .catch(() => undefined);
      for (const { queued } of placed) {
        const missing = existing && queued.records.find((record) => !existing.includes(record.topic));
        queued.reject(missing ? unknownTopic(missing.topic) : unavailable("produce", cause));
      }
      return;
    }
    const acknowledgedMs = performance.now();
    const baseOffsets = new Map<string, bigint>();
    for (const { topic, partition, offset } of result.offsets ?? [])
      baseOffsets.set(partitionKey(topic, partition), offset);
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
    options.onProduce?.({
      sends: placed.length,
      records: placed.reduce((sum, { queued }) => sum + queued.records.length, 0),
      bytes,
      queuedMsMax: sentMs - Math.min(...placed.map(({ queued }) => queued.queuedAtMs)),
      roundTripMs: acknowledgedMs - sentMs,
    });
  }

  /** Lets queued sends go out before the producer closes (bounded by the client's own timeouts). */
  async function drainProducer(): Promise<void> {
    producerClosed = true;
    while (queue.length > 0 || produceInFlight !== undefined) {
      if (produceInFlight === undefined) produceQueued();
      await produceInFlight;
    }
  }

  const logAdmin = (): LogAdmin => ({
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
      return names.sort().map((name): TopicDescription => {
        const topic = metadata.topics.get(name);
        const config: Record<string, string> = {};
        for (const entry of configByTopic.get(name) ?? []) {
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
      });
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
    async committedOffsets(groupId, topic) {
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
            if (partition.committedOffset >= 0n)
              committed[partition.partitionIndex] = partition.committedOffset;
          }
        }
      }
      return committed;
    },
  });

  async function read(
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

  return {
    kind: "kafka",
    producer,
    consumer(consumerOptions) {
      const consumer = new KafkaGroupConsumer(consumerOptions, {
        ...base,
        clientId: `${options.clientId}-${consumerOptions.groupId}`,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
        prefetchRecordsMax: settings.prefetchRecordsMax,
        onClosed: () => consumers.delete(consumer),
        onWarning: options.onConsumerWarning ?? (() => {}),
        beforePositionLookup: options.beforePositionLookup ?? (() => Promise.resolve()),
      });
      consumers.add(consumer);
      return consumer;
    },
    admin: logAdmin,
    read,
    async close() {
      await Promise.allSettled([...consumers].map((consumer) => consumer.stop()));
      await drainProducer();
      await Promise.allSettled([producerClient?.close(), adminClient?.close(), readerClient?.close()]);
      producerClient = undefined;
      adminClient = undefined;
      readerClient = undefined;
    },
  };
}

async function guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (cause) {
    throw unavailable(what, cause);
  }
}

interface GroupConsumerSettings {
  readonly bootstrapBrokers: string[];
  readonly clientId: string;
  readonly timeout: number;
  readonly retries: number;
  readonly retryDelay: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly prefetchRecordsMax: number;
  readonly onClosed: () => void;
  readonly onWarning: (message: string, details: Readonly<Record<string, string>>) => void;
  readonly beforePositionLookup: (groupId: string) => Promise<void>;
}

class KafkaGroupConsumer implements Consumer {
  readonly #options: ConsumerOptions;
  readonly #settings: GroupConsumerSettings;
  #client: KafkaConsumer | undefined;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Fetched records not yet handed to the handler, in arrival order (offset order per partition). */
  #queue: BufferMessage[] = [];
  /** Per owned partition whose position is known: the offset of the next record to queue. */
  readonly #next = new Map<string, bigint>();
  /** Per partition with a gap: rewinds in a row without a contiguous record (see rewindsBeforeStartCheck). */
  readonly #rewinds = new Map<string, { readonly count: number; readonly atMs: number }>();
  /** Partitions whose log start offset is being looked up (one lookup at a time each). */
  readonly #startChecks = new Set<string>();
  #owned = new Set<string>();
  /** Bumped whenever the owned set changes, so a late position lookup cannot apply to a lost partition. */
  #ownership = 0;
  #stopping = false;
  #streamFailed: unknown;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #left = false;
  #commits: Promise<void> = Promise.resolve();
  /** Per partition: the offset to commit for batches handled since the last commit request. */
  readonly #uncommitted = new Map<
    string,
    { topic: string; partition: number; offset: bigint; leaderEpoch: number }
  >();
  #committing = false;

  constructor(options: ConsumerOptions, settings: GroupConsumerSettings) {
    assert(options.batchSizeMax > 0, "batchSizeMax is positive");
    this.#options = options;
    this.#settings = settings;
  }

  async start(
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
  ): Promise<void> {
    assert(this.#client === undefined, "a consumer starts once");
    const settings = this.#settings;
    const client = new KafkaConsumerClient({
      clientId: settings.clientId,
      bootstrapBrokers: settings.bootstrapBrokers,
      timeout: settings.timeout,
      retries: settings.retries,
      retryDelay: settings.retryDelay,
      groupId: this.#options.groupId,
      autocommit: false,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      maxWaitTime: this.#options.fetchWaitMaxMs,
      // Cooperative rebalancing: members keep the partitions they still own while others join or leave.
      protocols: [{ name: "cooperative-sticky", version: 1 }],
    });
    this.#client = client;
    // A cooperative revoke round changes the assignment too (revoked partitions, and partitions of a
    // departed member handed over at once) but announces itself as a rebalance, not a join.
    for (const event of ["consumer:group:join", "consumer:group:rebalance", "consumer:group:leave"])
      client.on(event, () => this.#onAssignment());
    // The client reports failures of its background work (a rejoin that ran out of retries) as
    // 'error' events; unheard, one would crash the process. The run loop reopens the stream, which
    // joins the group again.
    client.on("error", (error: unknown) => {
      if (this.#stopping) return;
      this.#streamFailed = error;
      this.#wake?.();
    });
    try {
      await this.#openStream();
      await this.#ownSomething();
    } catch (cause) {
      await client.close(true).catch(() => {});
      throw unavailable(`join group ${this.#options.groupId}`, cause);
    }
    this.#onAssignment();
    await this.#positionsLearned;
    this.#loop = this.#run(eachBatch, onError);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  /** Leaves the group (close() sends LeaveGroup), so the partitions move to the other members at once. */
  async #leave(): Promise<void> {
    await this.#commits;
    await this.#stream?.close().catch(() => {});
    await this.#client?.close(true).catch(() => {});
    this.#owned = new Set();
    this.#settings.onClosed();
  }

  assignment(): readonly { topic: string; partition: number }[] {
    if (this.#left) return [];
    return (this.#client?.assignments ?? []).flatMap(({ topic, partitions }) =>
      partitions.map((partition) => ({ topic, partition })),
    );
  }

  async #openStream(): Promise<void> {
    const client = this.#client;
    assert(client !== undefined, "client exists");
    const stream = await client.consume({
      topics: [...this.#options.topics],
      mode: "committed",
      fallbackMode: this.#options.startFrom,
      autocommit: false,
      maxWaitTime: this.#options.fetchWaitMaxMs,
      minBytes: this.#options.fetchBytesMin ?? 1,
      sessionTimeout: this.#settings.sessionTimeoutMs,
      heartbeatInterval: this.#settings.heartbeatIntervalMs,
      rebalanceTimeout: this.#settings.rebalanceTimeoutMs,
    });
    this.#stream = stream;
    this.#streamFailed = undefined;
    stream.on("data", (message: BufferMessage) => this.#accept(message));
    stream.on("error", (error: Error) => {
      this.#streamFailed = error;
      this.#wake?.();
    });
  }

  /**
   * With cooperative rebalancing a joining member owns nothing after its first join: the others
   * first give partitions up, a second rebalance hands them over. Waits for that (bounded; a member
   * of a group with more members than partitions may own nothing at all).
   */
  async #ownSomething(): Promise<void> {
    const deadline = performance.now() + this.#settings.rebalanceTimeoutMs;
    while (this.assignment().length === 0 && performance.now() < deadline && !this.#stopping)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Commits never overtake each other: a start position cannot land after a batch's commit. */
  #serialized(work: () => Promise<void>): Promise<void> {
    const next = this.#commits.then(work).catch(() => {});
    this.#commits = next;
    return next;
  }

  #positionsLearned: Promise<void> = Promise.resolve();

  /** After every assignment change: forget partitions no longer owned, learn the new ones' positions. */
  #onAssignment(): void {
    const owned = new Set(this.assignment().map(({ topic, partition }) => partitionKey(topic, partition)));
    const changed = owned.size !== this.#owned.size || [...owned].some((key) => !this.#owned.has(key));
    if (!changed) return;
    this.#owned = owned;
    this.#ownership++;
    for (const key of [...this.#next.keys()]) if (!owned.has(key)) this.#next.delete(key);
    this.#queue = this.#queue.filter((message) => owned.has(partitionKey(message.topic, message.partition)));
    const firstAttempt = Promise.withResolvers<void>();
    this.#positionsLearned = firstAttempt.promise;
    void this.#learnPositionsUntilKnown(this.#ownership, firstAttempt.resolve);
  }

  /**
   * Looks positions up (retrying while the broker is away) until every partition in our owned set
   * has one, the assignment changes again (a newer lookup takes over), or we stop. The partitions to
   * learn are our owned set, never the client's assignment of the moment: the client empties its
   * assignment without an event while it rejoins after losing its membership (UNKNOWN_MEMBER_ID,
   * ILLEGAL_GENERATION, e.g. after a broker restart or a member's kill). A lookup that ran then
   * found nothing to learn and counted as done; when the rejoin handed back the same partitions no
   * assignment change was seen, and their records were dropped as "position not known" for good
   * (the fault test's undecided commands).
   */
  async #learnPositionsUntilKnown(ownership: number, afterFirstAttempt: () => void): Promise<void> {
    for (let attempt = 1; !this.#stopping && ownership === this.#ownership; attempt++) {
      await this.#serialized(() => this.#learnPositions());
      if (attempt === 1) afterFirstAttempt();
      const unknown = this.#ownedWithoutPosition();
      if (unknown.length === 0 || ownership !== this.#ownership) return;
      if (attempt === positionAttemptsBeforeWarning)
        this.#settings.onWarning("positions of owned partitions still unknown; retrying", {
          group: this.#options.groupId,
          partitions: unknown.map(({ topic, partition }) => `${topic}/${partition}`).join(","),
        });
      // Not #idle(): that is the run loop's own wait, and its wake-up must stay the loop's.
      await new Promise((resolve) => setTimeout(resolve, this.#settings.retryDelay));
    }
    afterFirstAttempt();
  }

  /** Partitions we own whose position is not known yet (their records are dropped until it is). */
  #ownedWithoutPosition(): { topic: string; partition: number }[] {
    return [...this.#owned].filter((key) => !this.#next.has(key)).map(parsePartitionKey);
  }

  /**
   * The position of a newly owned partition is the group's committed offset. A partition the group
   * has never committed gets its start position (earliest or end of log) committed at once, as the
   * port defines a group's position: the next offset it will read (the embedded adapter pins it the
   * same way). Runs serialized with our commits, so an earlier commit of ours has landed first.
   * On failure (broker away) the partitions stay unknown, their records are not queued, and
   * #learnPositionsUntilKnown tries again.
   */
  async #learnPositions(): Promise<void> {
    await this.#settings.beforePositionLookup(this.#options.groupId);
    const client = this.#client;
    const ownership = this.#ownership;
    const unknown = this.#ownedWithoutPosition();
    if (client === undefined || unknown.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of unknown)
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const committed = await client.listCommittedOffsets({
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const missing = unknown.filter(({ topic, partition }) => (committed.get(topic)?.[partition] ?? -1n) < 0n);
    const starts =
      missing.length === 0
        ? new Map<string, bigint[]>()
        : await client.listOffsets({
            topics: [...new Set(missing.map(({ topic }) => topic))],
            timestamp:
              this.#options.startFrom === "earliest"
                ? ListOffsetTimestamps.EARLIEST
                : ListOffsetTimestamps.LATEST,
          });
    if (ownership !== this.#ownership) {
      // The assignment changed meanwhile: the next lookup (already queued) starts over.
      return;
    }
    const pinned: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] = [];
    for (const { topic, partition } of unknown) {
      const stored = committed.get(topic)?.[partition] ?? -1n;
      const offset = stored >= 0n ? stored : starts.get(topic)?.[partition];
      if (offset === undefined) continue;
      if (stored < 0n) pinned.push({ topic, partition, offset, leaderEpoch: -1 });
      this.#next.set(partitionKey(topic, partition), offset);
      this.#rewind(topic, partition, offset);
    }
    if (pinned.length > 0) await client.commit({ offsets: pinned });
  }

  /** Sends the fetch stream back to `offset` for one partition (its next fetch starts there). */
  #rewind(topic: string, partition: number, offset: bigint): void {
    this.#stream?.offsetsToFetch.set(streamPartitionKey(topic, partition), offset);
  }

  #accept(message: BufferMessage): void {
    const key = partitionKey(message.topic, message.partition);
    if (!this.#owned.has(key)) return;
    const next = this.#next.get(key);
    // Position not known yet: the stream is sent to it once it is.
    if (next === undefined) return;
    // The stream rewinds to the committed offset after a rebalance: below the position is a repeat.
    if (message.offset < next) return;
    if (message.offset > next) {
      this.#onGap(key, message, next);
      return;
    }
    this.#rewinds.delete(key);
    this.#next.set(key, message.offset + 1n);
    this.#queue.push(message);
    if (this.#queue.length >= this.#settings.prefetchRecordsMax) this.#stream?.pause();
    // Let the rest of the fetch response land first, so a batch is as full as it can be.
    if (this.#wake) setImmediate(() => this.#wake?.());
  }

  /** A record past the position: rewind the stream to it; a persisting gap asks the broker whether the records are gone. */
  #onGap(key: string, message: BufferMessage, next: bigint): void {
    this.#rewind(message.topic, message.partition, next);
    const nowMs = performance.now();
    const previous = this.#rewinds.get(key);
    if (previous && nowMs - previous.atMs < rewindSpacingMs) return;
    const rewinds = (previous?.count ?? 0) + 1;
    this.#rewinds.set(key, { count: rewinds, atMs: nowMs });
    if (rewinds === 1)
      this.#settings.onWarning("fetch skipped records; re-reading from the position", {
        ...this.#gapDetails(message.topic, message.partition, next),
        received: message.offset.toString(),
      });
    if (rewinds % rewindsBeforeStartCheck === 0)
      void this.#skipToLogStartIfGone(message.topic, message.partition, next);
  }

  /**
   * Moves the position of a partition to its log start offset if retention deleted the records
   * from the position on. Applies only if nothing changed meanwhile (same ownership, same position).
   * A failed lookup (broker away) changes nothing: the gap persists and asks again.
   */
  async #skipToLogStartIfGone(topic: string, partition: number, next: bigint): Promise<void> {
    const key = partitionKey(topic, partition);
    const client = this.#client;
    if (client === undefined || this.#startChecks.has(key)) return;
    this.#startChecks.add(key);
    const ownership = this.#ownership;
    try {
      const starts = await client.listOffsets({
        topics: [topic],
        partitions: { [topic]: [partition] },
        timestamp: ListOffsetTimestamps.EARLIEST,
      });
      const start = starts.get(topic)?.[partition];
      if (start === undefined || start <= next) return;
      if (ownership !== this.#ownership || this.#next.get(key) !== next) return;
      this.#settings.onWarning(
        "records deleted by retention before this group read them: skipped to the log start",
        {
          ...this.#gapDetails(topic, partition, next),
          logStart: start.toString(),
        },
      );
      this.#rewinds.delete(key);
      this.#next.set(key, start);
      this.#rewind(topic, partition, start);
    } catch {
      // Broker away: the gap persists and the lookup is retried after more rewinds.
    } finally {
      this.#startChecks.delete(key);
    }
  }

  #gapDetails(topic: string, partition: number, next: bigint): Record<string, string> {
    return { group: this.#options.groupId, topic, partition: String(partition), expected: next.toString() };
  }

  #takeBatch(): BufferMessage[] {
    const batch = this.#queue.splice(0, this.#options.batchSizeMax);
    if (this.#queue.length < this.#settings.prefetchRecordsMax / 2 && this.#stream?.isPaused())
      this.#stream.resume();
    return batch;
  }

  #ownedOnly(batch: readonly BufferMessage[]): BufferMessage[] {
    return batch.filter((message) => this.#owned.has(partitionKey(message.topic, message.partition)));
  }

  async #idle(ms?: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  async #run(
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
  ): Promise<void> {
    while (!this.#stopping) {
      if (this.#streamFailed !== undefined) {
        await this.#reopenAfterFailure();
        continue;
      }
      const batch = this.#takeBatch();
      if (batch.length === 0) {
        await this.#idle();
        continue;
      }
      const keepGoing = await this.#deliver(batch, eachBatch, onError);
      if (!keepGoing) this.#stopping = true;
    }
    await this.#leave();
    this.#left = true;
  }

  /** Hands one batch to the handler until it succeeds (then commits) or `onError` says stop. */
  async #deliver(
    initial: BufferMessage[],
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
  ): Promise<boolean> {
    let batch = initial;
    for (let attempt = 1; ; attempt++) {
      try {
        await eachBatch(batch.map(messageToRecord));
      } catch (error) {
        const decision = onError(error, attempt);
        if ("stop" in decision) return false;
        this.#stream?.pause();
        await this.#idle(decision.retryAfterMs);
        if (this.#stopping) return false;
        // Partitions may have moved during the pause; their new owner redelivers from the commit.
        batch = this.#ownedOnly(batch);
        if (batch.length === 0) return true;
        continue;
      }
      this.#commit(batch);
      return true;
    }
  }

  /**
   * Commits a handled batch without holding up the next one (as Kafka's commitAsync): the commit of
   * batch N overlaps the handling of batch N+1. One commit request at a time; batches handled
   * meanwhile are merged into the next request. At least once is kept: a commit lost to a crash
   * only means redelivery. Leaving the group waits for the last commit.
   */
  #commit(batch: readonly BufferMessage[]): void {
    for (const message of batch) {
      const key = partitionKey(message.topic, message.partition);
      if (!this.#owned.has(key)) continue;
      this.#uncommitted.set(key, {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset + 1n,
        leaderEpoch: message.leaderEpoch,
      });
    }
    if (this.#uncommitted.size > 0 && !this.#committing) {
      this.#committing = true;
      void this.#serialized(() => this.#commitUncommitted());
    }
  }

  async #commitUncommitted(): Promise<void> {
    try {
      while (this.#uncommitted.size > 0) {
        const offsets = [...this.#uncommitted]
          .filter(([key]) => this.#owned.has(key))
          .map(([, offset]) => offset);
        this.#uncommitted.clear();
        if (offsets.length === 0) return;
        try {
          await this.#client?.commit({ offsets });
        } catch {
          // Commits are cumulative: the next successful one covers these records. If the partition
          // moved meanwhile, its new owner redelivers them from the older commit (at least once).
        }
      }
    } finally {
      // Synchronously after the loop's last check: a batch handled later starts a new request.
      this.#committing = false;
    }
  }

  /** The fetch stream died (e.g. the broker restarted and retries ran out): open a new one. */
  async #reopenAfterFailure(): Promise<void> {
    await this.#stream?.close().catch(() => {});
    this.#stream = undefined;
    this.#queue = [];
    // Every position is learned again from the committed offsets (a commit of ours may have failed).
    this.#next.clear();
    this.#owned = new Set();
    while (!this.#stopping) {
      try {
        await this.#openStream();
        this.#onAssignment();
        return;
      } catch {
        await this.#idle(this.#settings.retryDelay);
      }
    }
  }
}
