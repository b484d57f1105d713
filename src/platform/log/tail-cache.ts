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
export class TailCache {
  readonly #partitions = new Map<string, Segment[]>();
  readonly #recordsPerPartitionMax: number;

  constructor(recordsPerPartitionMax: number) {
    this.#recordsPerPartitionMax = recordsPerPartitionMax;
  }

  add(topic: string, partition: number, base: bigint, records: readonly LogRecord[]): void {
    if (this.#recordsPerPartitionMax <= 0 || records.length === 0) return;
    const key = `${topic}\u0000${partition}`;
    let segments = this.#partitions.get(key);
    if (!segments) {
      segments = [];
      this.#partitions.set(key, segments);
    }
    let at = segments.length;
    while (at > 0 && (segments[at - 1] as Segment).base > base) at -= 1;
    segments.splice(at, 0, { base, records });
    let cached = segments.reduce((sum, s) => sum + s.records.length, 0);
    while (cached > this.#recordsPerPartitionMax && segments.length > 1) {
      cached -= (segments.shift() as Segment).records.length;
    }
  }

  /** Up to `limit` records from `from`, or undefined when the cache does not hold `from`. */
  read(topic: string, partition: number, from: bigint, limit: number): LogRecord[] | undefined {
    const segments = this.#partitions.get(`${topic}\u0000${partition}`);
    if (!segments) return undefined;
    const start = segments.findIndex((s) => s.base <= from && from < s.base + BigInt(s.records.length));
    if (start < 0) return undefined;
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
