/**
 * The stall watchdog of consumer groups, the same for every log adapter (it reads only the port's
 * `LogAdmin`): a partition whose committed offset trails its log end and has not moved for
 * `stallAfterMs` is stalled — accepted work sits in the log and nobody is deciding it. Each
 * stall is reported once when it starts and once when it ends (for logs), and every check
 * publishes each watched partition's lag and stalled flag (for Prometheus).
 *
 * A busy group is never flagged: progress is any change of the committed offset, so a partition
 * that trails under load but keeps committing is healthy. A group that has never committed a
 * partition counts from offset 0 (nothing of it has been decided).
 */
import { Gauge, type Registry } from "prom-client";
import type { LogAdmin } from "./port.ts";

export interface WatchedGroup {
  readonly groupId: string;
  readonly topics: readonly string[];
}

export interface PartitionSample {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (next offset to read); undefined when it never committed. */
  readonly committed: bigint | undefined;
  /** The log end offset (next offset to be written). */
  readonly end: bigint;
}

export interface PartitionState extends PartitionSample {
  readonly lag: bigint;
  readonly stalled: boolean;
  /** How long the committed offset has trailed the end without moving (0 when it does not trail). */
  readonly stuckForMs: number;
}

export interface StallTransitions {
  readonly partitions: readonly PartitionState[];
  readonly stalled: readonly PartitionState[];
  readonly resumed: readonly PartitionState[];
}

interface Tracked {
  committed: bigint;
  /** When the committed offset last moved, or last caught up with the end. */
  progressAtMs: number;
  stalled: boolean;
}

const sampleKey = (s: { groupId: string; topic: string; partition: number }) =>
  `${s.groupId}\u0000${s.topic}\u0000${s.partition}`;

/** The pure part: given successive samples and the time, which partitions are stalled. */
export class StallDetector {
  readonly #stallAfterMs: number;
  readonly #tracked = new Map<string, Tracked>();

  constructor(stallAfterMs: number) {
    if (!(stallAfterMs > 0)) throw new RangeError("stallAfterMs must be positive");
    this.#stallAfterMs = stallAfterMs;
  }

  observe(nowMs: number, samples: readonly PartitionSample[]): StallTransitions {
    const partitions: PartitionState[] = [];
    const stalled: PartitionState[] = [];
    const resumed: PartitionState[] = [];
    for (const sample of samples) {
      const committed = sample.committed ?? 0n;
      const key = sampleKey(sample);
      const trails = committed < sample.end;
      let tracked = this.#tracked.get(key);
      if (tracked === undefined) {
        tracked = { committed, progressAtMs: nowMs, stalled: false };
        this.#tracked.set(key, tracked);
      } else if (committed !== tracked.committed || !trails) {
        tracked.committed = committed;
        tracked.progressAtMs = nowMs;
      }
      const stuckForMs = trails ? nowMs - tracked.progressAtMs : 0;
      const isStalled = trails && stuckForMs >= this.#stallAfterMs;
      const state: PartitionState = {
        ...sample,
        lag: trails ? sample.end - committed : 0n,
        stalled: isStalled,
        stuckForMs,
      };
      partitions.push(state);
      if (isStalled && !tracked.stalled) stalled.push(state);
      if (!isStalled && tracked.stalled) resumed.push(state);
      tracked.stalled = isStalled;
    }
    return { partitions, stalled, resumed };
  }
}

export interface StallWatchdogOptions {
  readonly admin: LogAdmin;
  readonly groups: readonly WatchedGroup[];
  /** A trailing partition whose committed offset has not moved this long is stalled. */
  readonly stallAfterMs: number;
  readonly checkIntervalMs: number;
  readonly nowMs: () => number;
  /** Registers `ledgerflow_log_partition_stalled` and `ledgerflow_log_partition_lag_records` here. */
  readonly registry?: Registry;
  readonly onStalled: (partition: PartitionState) => void;
  readonly onResumed: (partition: PartitionState) => void;
  /** A check that could not read the offsets (the log is away); the next check tries again. */
  readonly onCheckFailed?: (error: unknown) => void;
}

export interface StallWatchdog {
  /** One check now (also what the timer runs); resolves with every watched partition's state. */
  check(): Promise<readonly PartitionState[]>;
  stop(): Promise<void>;
}

export function startStallWatchdog(options: StallWatchdogOptions): StallWatchdog {
  const detector = new StallDetector(options.stallAfterMs);
  const labelNames = ["group", "topic", "partition"] as const;
  const registers = options.registry ? [options.registry] : [];
  const stalledName = "ledgerflow_log_partition_stalled";
  const lagName = "ledgerflow_log_partition_lag_records";
  const stalledGauge = new Gauge({
    name: stalledName,
    help: "1 while a consumer group's committed offset trails the log end without progress for the stall time",
    labelNames,
    registers,
  });
  const lagGauge = new Gauge({
    name: lagName,
    help: "Records between a consumer group's committed offset and the log end",
    labelNames,
    registers,
  });

  const sample = async (): Promise<PartitionSample[]> => {
    const samples: PartitionSample[] = [];
    for (const { groupId, topics } of options.groups) {
      for (const topic of topics) {
        const [ends, committed] = await Promise.all([
          options.admin.endOffsets(topic),
          options.admin.committedOffsets(groupId, topic),
        ]);
        for (const [partition, end] of ends.entries())
          samples.push({ groupId, topic, partition, end, committed: committed[partition] });
      }
    }
    return samples;
  };

  let inFlight: Promise<readonly PartitionState[]> | undefined;
  const check = (): Promise<readonly PartitionState[]> => {
    inFlight ??= (async () => {
      try {
        const { partitions, stalled, resumed } = detector.observe(options.nowMs(), await sample());
        for (const state of partitions) {
          const labels = { group: state.groupId, topic: state.topic, partition: String(state.partition) };
          stalledGauge.set(labels, state.stalled ? 1 : 0);
          lagGauge.set(labels, Number(state.lag));
        }
        for (const state of stalled) options.onStalled(state);
        for (const state of resumed) options.onResumed(state);
        return partitions;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const timer = setInterval(() => {
    check().catch((error: unknown) => options.onCheckFailed?.(error));
  }, options.checkIntervalMs);
  timer.unref();

  return {
    check,
    async stop() {
      clearInterval(timer);
      await inFlight?.catch(() => {});
      options.registry?.removeSingleMetric(stalledName);
      options.registry?.removeSingleMetric(lagName);
    },
  };
}
