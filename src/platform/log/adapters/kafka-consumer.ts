/**
 * The Kafka adapter's consumer-group member (see kafka.ts for how ordering and no-loss across
 * rebalances are kept): one long-lived fetch stream, positions per owned partition, gap repair,
 * commits after each batch.
 */
import {
  type Consumer as KafkaConsumer,
  Consumer as KafkaConsumerClient,
  ListOffsetTimestamps,
  type MessagesStream,
} from "@platformatic/kafka";
import { assert } from "../../errors.ts";
import type { BatchErrorDecision, Consumer, ConsumerOptions, EachBatch } from "../port.ts";
import {
  type BufferMessage,
  messageToRecord,
  parsePartitionKey,
  partitionKey,
  streamPartitionKey,
  unavailable,
} from "./kafka-codec.ts";

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

export interface GroupConsumerSettings {
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

export class KafkaGroupConsumer implements Consumer {
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
