import type { LogRecord } from "./port.ts";

interface Segment {
  readonly base: bigint;
  readonly records: readonly LogRecord[];
}

/**
 * Records this process appended recently, per partition, so that consumers reading at the tail of
 * the log (the common case) get them without a query and without decoding a stored batch.
 * Appends may be reported out of offset order (transactions commit concurrently), so a read is
 * served only from a run of segments with no gap, starting at the asked offset; anything else
 * falls back to storage.
 */
interface CachedPartition {
  /** Sorted by base offset; small segments are common (one per append), so lookups bisect. */
  readonly segments: Segment[];
  records: number;
}

export class TailCache {
  readonly #partitions = new Map<string, CachedPartition>();
  readonly #recordsPerPartitionMax: number;

  constructor(recordsPerPartitionMax: number) {
    this.#recordsPerPartitionMax = recordsPerPartitionMax;
  }

  add(topic: string, partition: number, base: bigint, records: readonly LogRecord[]): void {
    if (this.#recordsPerPartitionMax <= 0 || records.length === 0) return;
    const key = `${topic}\u0000${partition}`;
    let cached = this.#partitions.get(key);
    if (!cached) {
      cached = { segments: [], records: 0 };
      this.#partitions.set(key, cached);
    }
    const { segments } = cached;
    let at = segments.length;
    while (at > 0 && (segments[at - 1] as Segment).base > base) at -= 1;
    segments.splice(at, 0, { base, records });
    cached.records += records.length;
    let evict = 0;
    while (cached.records > this.#recordsPerPartitionMax && evict < segments.length - 1) {
      cached.records -= (segments[evict] as Segment).records.length;
      evict += 1;
    }
    if (evict > 0) segments.splice(0, evict);
  }

  /** Up to `limit` records from `from`, or undefined when the cache does not hold `from`. */
  read(topic: string, partition: number, from: bigint, limit: number): LogRecord[] | undefined {
    const segments = this.#partitions.get(`${topic}\u0000${partition}`)?.segments;
    if (!segments) return undefined;
    const start = lastSegmentAtOrBefore(segments, from);
    const first = segments[start];
    if (!first || from >= first.base + BigInt(first.records.length)) return undefined;
    const out: LogRecord[] = [];
    let next = from;
    for (let i = start; i < segments.length && out.length < limit; i++) {
      const segment = segments[i] as Segment;
      if (segment.base > next) break;
      const skip = Number(next - segment.base);
      const taken = segment.records.slice(skip, skip + limit - out.length);
      for (const record of taken) out.push(record);
      next += BigInt(taken.length);
    }
    return out;
  }

  forgetTopic(topic: string): void {
    for (const key of this.#partitions.keys())
      if (key.startsWith(`${topic}\u0000`)) this.#partitions.delete(key);
  }
}

/** Index of the last segment whose base is <= offset, or -1. */
function lastSegmentAtOrBefore(segments: readonly Segment[], offset: bigint): number {
  let low = 0;
  let high = segments.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if ((segments[middle] as Segment).base <= offset) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
