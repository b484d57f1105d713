/**
 * Coalesces concurrent point lookups into one set-based query: every key asked for during the same
 * tick is fetched by a single `loadMany` call (the DataLoader pattern). Under load, N requests cost
 * one round trip instead of N.
 */
export function coalesce<K, V>(
  loadMany: (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>,
  batchSizeMax: number,
  /** 0: keys asked in the same tick share a load; > 0: keys asked within this window do. */
  windowMs = 0,
): (key: K) => Promise<V | undefined> {
  let queue: { key: K; resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const pending = queue;
    queue = [];
    for (let start = 0; start < pending.length; start += batchSizeMax) {
      const chunk = pending.slice(start, start + batchSizeMax);
      loadMany([...new Set(chunk.map((entry) => entry.key))]).then(
        (found) => {
          for (const entry of chunk) entry.resolve(found.get(entry.key));
        },
        (error: unknown) => {
          for (const entry of chunk) entry.reject(error);
        },
      );
    }
  };

  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      queue.push({ key, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        if (windowMs > 0) setTimeout(flush, windowMs);
        else setImmediate(flush);
      }
    });
}
