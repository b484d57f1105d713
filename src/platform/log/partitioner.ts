/**
 * Kafka's default partitioner for keyed records (`BuiltInPartitioner.partitionForKey`):
 * `toPositive(murmur2(utf8(key))) % numPartitions`. Matching it bit for bit means a key lands on the
 * same partition in embedded mode and on a real broker, so per-key ordering survives a switch.
 */

const seed = 0x9747b28c;
const m = 0x5bd1e995;
const r = 24;
const encoder = new TextEncoder();

/** Kafka's `Utils.murmur2`: a signed 32-bit hash, like the Java `int` it returns. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (seed ^ length) | 0;
  const wholeWordsEnd = length & ~3;
  for (let i = 0; i < wholeWordsEnd; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & 3;
  if (tail > 0) {
    // Java's switch falls through: 3 -> 2 -> 1, then one multiply.
    if (tail === 3) h ^= (data[wholeWordsEnd + 2] as number) << 16;
    if (tail >= 2) h ^= (data[wholeWordsEnd + 1] as number) << 8;
    h ^= data[wholeWordsEnd] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which breaks on MIN_VALUE). */
export function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

export function partitionForKey(key: string, numPartitions: number): number {
  return toPositive(murmur2(encoder.encode(key))) % numPartitions;
}
