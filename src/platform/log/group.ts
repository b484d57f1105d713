import { InfrastructureError, InvariantViolation } from "../errors.ts";
import type { BatchErrorDecision, Consumer, ConsumerOptions, EachBatch, LogRecord } from "./port.ts";

/**
 * In-process consumer groups shared by the embedded adapters (postgres, memory): membership,
 * range assignment, rebalancing and the poll → handle → commit loop. Adapters supply storage
 * through `GroupBackend`. Group membership is per `Log` instance (one process); committed offsets
 * live in the backend, so a restarted process resumes where the group left off.
 *
 * Rebalance protocol: ownership changes hands only between batches. A member whose target
 * assignment no longer includes a partition gives it up at its next loop boundary (after its
 * in-flight batch resolved and was committed); the new owner claims it only once it is free and
 * starts from the committed offset. So no record is handled by two members at once, and none is
 * skipped. Commits run in the background (Kafka's commitAsync): the next batch does not wait for
 * the round trip; giving up a partition or leaving waits for them.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface FetchRequest extends TopicPartition {
  readonly fromOffset: bigint;
}

export interface OffsetCommit extends TopicPartition {
  /** Next offset to read. */
  readonly nextOffset: bigint;
}

/** Timers are injectable so a simulation can drive time; the default is the real event loop. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface GroupBackend {
  /** Throws `unknown_topic` for a missing topic. */
  partitionCount(topic: string): Promise<number>;
  /** Per request, records from `fromOffset` (up to `recordsMax`), in offset order. */
  fetch(requests: readonly FetchRequest[], recordsMax: number): Promise<readonly (readonly LogRecord[])[]>;
  endOffset(topic: string, partition: number): Promise<bigint>;
  committedOffset(groupId: string, topic: string, partition: number): Promise<bigint | undefined>;
  commit(groupId: string, offsets: readonly OffsetCommit[]): Promise<void>;
  /** Calls `listener` after records were appended to `topic` by this process; returns an unsubscribe. */
  onAppend(topic: string, listener: (partition: number) => void): () => void;
  /** Longest sleep between fetches, so appends by other processes are seen too. */
  readonly pollIntervalMs: number;
  /** Sleep after a failed fetch or commit (e.g. the database is down) before trying again. */
  readonly failureBackoffMs: number;
  readonly timers: Timers;
}

export function unknownTopic(topic: string): InfrastructureError {
  return new InfrastructureError("unknown_topic", `topic ${topic} does not exist`);
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Kafka's RangeAssignor for one topic: contiguous ranges, the first `n % k` members get one extra. */
export function rangeAssign(partitions: number, memberIndex: number, memberCount: number): readonly number[] {
  const each = Math.floor(partitions / memberCount);
  const extra = partitions % memberCount;
  const start = memberIndex * each + Math.min(memberIndex, extra);
  const count = each + (memberIndex < extra ? 1 : 0);
  return Array.from({ length: count }, (_, i) => start + i);
}

class Group {
  readonly members: GroupMember[] = [];
  /** Who currently holds each partition; a partition is claimed only when free. */
  readonly owners = new Map<string, GroupMember>();

  join(member: GroupMember): void {
    this.members.push(member);
    this.wakeAll();
  }

  leave(member: GroupMember): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    for (const [key, owner] of this.owners) if (owner === member) this.owners.delete(key);
    this.wakeAll();
  }

  wakeAll(): void {
    for (const member of this.members) member.wake();
  }

  targetOf(member: GroupMember): Map<string, TopicPartition> {
    const target = new Map<string, TopicPartition>();
    for (const [topic, partitions] of member.partitionCounts) {
      const subscribers = this.members.filter((m) => m.partitionCounts.has(topic));
      for (const partition of rangeAssign(partitions, subscribers.indexOf(member), subscribers.length)) {
        target.set(keyOf(topic, partition), { topic, partition });
      }
    }
    return target;
  }
}

/** All groups of one `Log` instance. */
export class GroupCoordinator {
  readonly #groups = new Map<string, Group>();
  readonly #members = new Set<GroupMember>();
  readonly #backend: GroupBackend;

  constructor(backend: GroupBackend) {
    this.#backend = backend;
  }

  consumer(options: ConsumerOptions): Consumer {
    if (!(options.batchSizeMax >= 1)) throw new RangeError("batchSizeMax must be at least 1");
    const member = new GroupMember(this, this.#backend, options);
    this.#members.add(member);
    return member;
  }

  group(groupId: string): Group {
    let group = this.#groups.get(groupId);
    if (!group) {
      group = new Group();
      this.#groups.set(groupId, group);
    }
    return group;
  }

  forget(groupId: string, member: GroupMember): void {
    this.#members.delete(member);
    if (this.#groups.get(groupId)?.members.length === 0) this.#groups.delete(groupId);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#members].map((m) => m.stop()));
  }
}

interface OwnedPartition extends TopicPartition {
  /** Next offset to hand to the handler (= committed offset once the last batch is committed). */
  position: bigint;
  /** Fetched but not yet handed out. */
  buffer: LogRecord[];
  /**
   * Bumped by every in-process append to the partition. Reads skip partitions with nothing new
   * since their last read came up short (`readUpTo` equal): most polls then cost no query at all.
   */
  appends: number;
  /** `appends` as of the last read that reached the end of the partition; -1 = read it. */
  readUpTo: number;
}

/**
 * Every this many polls a member reads all its partitions, not only those with in-process appends:
 * records appended by another process (a CLI tool on the same database) are seen within this many
 * polls even under constant load, and at the idle poll interval otherwise.
 */
const pollsPerFullReadMax = 50;

type State = "idle" | "running" | "stopping" | "stopped";

class GroupMember implements Consumer {
  readonly partitionCounts = new Map<string, number>();
  readonly #coordinator: GroupCoordinator;
  readonly #backend: GroupBackend;
  readonly #options: ConsumerOptions;
  readonly #owned = new Map<string, OwnedPartition>();
  #state: State = "idle";
  #group: Group | undefined;
  #loopDone: Promise<void> = Promise.resolve();
  #unsubscribes: (() => void)[] = [];
  #woken = false;
  #wakeWaiter: (() => void) | undefined;
  /** Rotates which partition fills a batch first, so a busy partition cannot starve the others. */
  #firstPartition = 0;
  /** Polls since every owned partition was read; a sleep that timed out also asks for a full read. */
  #pollsSinceFullRead = 0;
  #fullReadDue = true;
  #retryTimer: unknown;
  /**
   * Handled positions not yet committed. Commits run in the background, one at a time, coalescing
   * whatever was handled meanwhile (Kafka's commitAsync): the next fetch does not wait for a round
   * trip, and under load one commit covers many batches. Positions are tracked in memory, so a late
   * commit only means a wider redelivery after a crash (at least once, as before).
   */
  readonly #uncommitted = new Map<string, OffsetCommit>();
  #committing: Promise<void> | undefined;
  /** A commit failed with something other than storage trouble: the loop rethrows it. */
  #commitFailure: { readonly error: unknown } | undefined;

  constructor(coordinator: GroupCoordinator, backend: GroupBackend, options: ConsumerOptions) {
    this.#coordinator = coordinator;
    this.#backend = backend;
    this.#options = options;
  }

  assignment(): readonly { topic: string; partition: number }[] {
    return [...this.#owned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  async start(
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
  ): Promise<void> {
    if (this.#state !== "idle") throw new InvariantViolation("a consumer can be started once");
    this.#state = "running";
    try {
      for (const topic of new Set(this.#options.topics)) {
        this.partitionCounts.set(topic, await this.#backend.partitionCount(topic));
      }
    } catch (error) {
      this.#state = "stopped";
      this.#coordinator.forget(this.#options.groupId, this);
      throw error;
    }
    for (const topic of this.partitionCounts.keys()) {
      this.#unsubscribes.push(
        this.#backend.onAppend(topic, (partition) => {
          const owned = this.#owned.get(keyOf(topic, partition));
          if (!owned) return;
          owned.appends += 1;
          this.wake();
        }),
      );
    }
    const group = this.#coordinator.group(this.#options.groupId);
    this.#group = group;
    group.join(this);
    const joined = Promise.withResolvers<void>();
    this.#loopDone = this.#run(group, eachBatch, onError, joined.resolve);
    // A consumer stopped before it owned anything still counts as started.
    this.#loopDone.then(joined.resolve, joined.reject);
    return joined.promise;
  }

  async stop(): Promise<void> {
    if (this.#state === "idle") {
      this.#state = "stopped";
      this.#coordinator.forget(this.#options.groupId, this);
      return;
    }
    if (this.#state === "running") this.#state = "stopping";
    this.wake();
    await this.#loopDone;
  }

  wake(): void {
    this.#woken = true;
    const waiter = this.#wakeWaiter;
    this.#wakeWaiter = undefined;
    waiter?.();
  }

  /** Sleeps until woken (append, rebalance, stop, retry timer) or `timeoutMs` passed. */
  async #sleep(timeoutMs: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    let timedOut = false;
    const timer = Number.isFinite(timeoutMs)
      ? this.#backend.timers.setTimeout(() => {
          timedOut = true;
          resolve();
        }, timeoutMs)
      : undefined;
    this.#wakeWaiter = resolve;
    await promise;
    if (timer !== undefined) this.#backend.timers.clearTimeout(timer);
    this.#wakeWaiter = undefined;
    this.#woken = false;
    // Nothing happened in this process for a while: look for what other processes appended.
    if (timedOut) this.#fullReadDue = true;
  }

  async #run(
    group: Group,
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
    joined: () => void,
  ): Promise<void> {
    try {
      await this.#poll(group, eachBatch, onError, joined);
    } finally {
      // Hand over cleanly: the next owner starts where this member got to (best effort).
      await this.#flushCommits();
      this.#leave(group);
    }
  }

  async #poll(
    group: Group,
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
    joined: () => void,
  ): Promise<void> {
    let failed: { records: readonly LogRecord[]; attempt: number; retryDue: boolean } | undefined;
    // In-process appends wake the member at once, so an idle member only needs to look for other
    // processes' appends: at the backend's poll interval (the memory log has none: fetchWaitMaxMs).
    const idleSleepMs = Number.isFinite(this.#backend.pollIntervalMs)
      ? this.#backend.pollIntervalMs
      : this.#options.fetchWaitMaxMs;
    while (this.#state === "running") {
      if (this.#commitFailure) throw this.#commitFailure.error;
      try {
        const target = await this.#rebalance(group);
        if (target.size === this.#owned.size) joined();
        if (failed) {
          const stillOwned = failed.records.filter((r) => this.#owned.has(keyOf(r.topic, r.partition)));
          failed.records = stillOwned;
          if (stillOwned.length === 0) failed = undefined;
        }
        if (failed && !failed.retryDue) {
          await this.#sleep(Number.POSITIVE_INFINITY);
          continue;
        }
        const records = failed?.records ?? (await this.#nextBatch());
        if (records.length === 0) {
          await this.#sleep(idleSleepMs);
          continue;
        }
        try {
          await eachBatch(records);
        } catch (error) {
          const attempt = (failed?.attempt ?? 0) + 1;
          const decision = decide(onError, error, attempt);
          if ("stop" in decision) {
            this.#state = "stopping";
            break;
          }
          const retry = { records, attempt, retryDue: false };
          failed = retry;
          this.#retryTimer = this.#backend.timers.setTimeout(() => {
            this.#retryTimer = undefined;
            retry.retryDue = true;
            this.wake();
          }, decision.retryAfterMs);
          continue;
        }
        failed = undefined;
        this.#commitHandled(records);
      } catch (error) {
        // Storage trouble (fetch, commit, offsets): the loop survives it and tries again.
        if (!(error instanceof InfrastructureError)) throw error;
        await this.#sleep(this.#backend.failureBackoffMs);
      }
    }
  }

  /** Gives up partitions no longer targeted, then claims free targeted ones. */
  async #rebalance(group: Group): Promise<Map<string, TopicPartition>> {
    const target = group.targetOf(this);
    const released = [...this.#owned.keys()].filter((key) => !target.has(key));
    if (released.length > 0) {
      // The next owner starts from the committed offset: commit what was handled first.
      await this.#flushCommits();
      for (const key of released) {
        this.#owned.delete(key);
        group.owners.delete(key);
      }
      group.wakeAll();
    }
    for (const [key, tp] of target) {
      if (this.#owned.has(key) || group.owners.has(key)) continue;
      group.owners.set(key, this);
      try {
        const position = await this.#startPosition(tp);
        this.#owned.set(key, { ...tp, position, buffer: [], appends: 0, readUpTo: -1 });
      } catch (error) {
        group.owners.delete(key);
        throw error;
      }
    }
    return target;
  }

  async #startPosition({ topic, partition }: TopicPartition): Promise<bigint> {
    const { groupId, startFrom } = this.#options;
    const committed = await this.#backend.committedOffset(groupId, topic, partition);
    if (committed !== undefined) return committed;
    const position = startFrom === "earliest" ? 0n : await this.#backend.endOffset(topic, partition);
    // Pin the reset position, so a later owner of this partition does not reset to a newer "latest"
    // and skip what was appended in between.
    await this.#backend.commit(groupId, [{ topic, partition, nextOffset: position }]);
    return position;
  }

  async #nextBatch(): Promise<readonly LogRecord[]> {
    const owned = [...this.#owned.values()];
    if (owned.length === 0) return [];
    const batchSizeMax = this.#options.batchSizeMax;
    const buffered = owned.reduce((sum, p) => sum + p.buffer.length, 0);
    this.#pollsSinceFullRead += 1;
    const fullRead = this.#fullReadDue || this.#pollsSinceFullRead >= pollsPerFullReadMax;
    const toRead = owned.filter((p) => p.buffer.length === 0 && (fullRead || p.readUpTo !== p.appends));
    if (fullRead) {
      this.#fullReadDue = false;
      this.#pollsSinceFullRead = 0;
    }
    if (buffered < batchSizeMax && toRead.length > 0) {
      const appendsBefore = toRead.map((p) => p.appends);
      const fetched = await this.#backend.fetch(
        toRead.map(({ topic, partition, position }) => ({ topic, partition, fromOffset: position })),
        batchSizeMax,
      );
      toRead.forEach((p, i) => {
        // Skip anything before the position (a stored batch may start before it); the owner may
        // also have changed while fetching, in which case the records are simply dropped.
        if (this.#owned.get(keyOf(p.topic, p.partition)) !== p) return;
        const records = fetched[i] ?? [];
        for (const record of records) if (record.offset >= p.position) p.buffer.push(record);
        // Came up short: the end was reached as of the appends seen before the read (an append
        // during the read bumps `appends` again, so the partition is read once more).
        if (records.length < batchSizeMax) p.readUpTo = appendsBefore[i] as number;
      });
    }
    const batch: LogRecord[] = [];
    this.#firstPartition = (this.#firstPartition + 1) % owned.length;
    for (let i = 0; i < owned.length && batch.length < batchSizeMax; i++) {
      const p = owned[(this.#firstPartition + i) % owned.length] as OwnedPartition;
      const taken = p.buffer.splice(0, batchSizeMax - batch.length);
      for (const record of taken) batch.push(record);
    }
    return batch;
  }

  /** Moves the positions past `records` and commits them in the background. */
  #commitHandled(records: readonly LogRecord[]): void {
    for (const { topic, partition, offset } of records) {
      const key = keyOf(topic, partition);
      const owned = this.#owned.get(key);
      if (owned && offset + 1n > owned.position) owned.position = offset + 1n;
      const pending = this.#uncommitted.get(key);
      if (!pending || offset + 1n > pending.nextOffset)
        this.#uncommitted.set(key, { topic, partition, nextOffset: offset + 1n });
    }
    this.#startCommitting();
  }

  #startCommitting(): void {
    if (this.#committing || this.#commitFailure) return;
    this.#committing = this.#commitUncommitted().finally(() => {
      this.#committing = undefined;
      // Positions handled between the last commit and this callback would otherwise wait.
      if (this.#uncommitted.size > 0 && this.#state === "running") this.#startCommitting();
    });
  }

  /** Waits until everything handled so far is committed (once stopping: one attempt). */
  async #flushCommits(): Promise<void> {
    this.#startCommitting();
    while (this.#committing) await this.#committing;
  }

  /**
   * Commits until nothing is left. The handler succeeded, so these records must not be redelivered
   * by us: storage trouble is retried while running (once stopping, the next owner redelivers).
   */
  async #commitUncommitted(): Promise<void> {
    while (this.#uncommitted.size > 0) {
      const offsets = [...this.#uncommitted.values()];
      this.#uncommitted.clear();
      try {
        await this.#backend.commit(this.#options.groupId, offsets);
      } catch (error) {
        for (const commit of offsets) {
          const key = keyOf(commit.topic, commit.partition);
          if (!this.#uncommitted.has(key)) this.#uncommitted.set(key, commit);
        }
        if (!(error instanceof InfrastructureError)) {
          this.#commitFailure = { error };
          this.wake();
          return;
        }
        if (this.#state !== "running") return;
        await new Promise<void>((resolve) =>
          this.#backend.timers.setTimeout(resolve, this.#backend.failureBackoffMs),
        );
      }
    }
  }

  #leave(group: Group): void {
    if (this.#retryTimer !== undefined) this.#backend.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
    this.#unsubscribes = [];
    this.#owned.clear();
    group.leave(this);
    this.#state = "stopped";
    this.#coordinator.forget(this.#options.groupId, this);
  }
}

function decide(
  onError: (error: unknown, attempt: number) => BatchErrorDecision,
  error: unknown,
  attempt: number,
): BatchErrorDecision {
  try {
    return onError(error, attempt);
  } catch {
    return { stop: true };
  }
}
