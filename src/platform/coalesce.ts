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
  /**
   * Loads running at once at most. Keys asked while the limit is reached wait for a load to finish
   * and then go together: under load, batches grow instead of round trips multiplying.
   */
  loadsInFlightMax = Number.POSITIVE_INFINITY,
): (key: K) => Promise<V | undefined> {
  const queue: { key: K; resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  let loadsInFlight = 0;

  const flush = () => {
    scheduled = false;
    while (queue.length > 0 && loadsInFlight < loadsInFlightMax) {
      const chunk = queue.splice(0, batchSizeMax);
      loadsInFlight += 1;
      loadMany([...new Set(chunk.map((entry) => entry.key))])
        .then(
          (found) => {
            for (const entry of chunk) entry.resolve(found.get(entry.key));
          },
          (error: unknown) => {
            for (const entry of chunk) entry.reject(error);
          },
        )
        .finally(() => {
          loadsInFlight -= 1;
          // Whoever queued meanwhile has waited a load already: no new window.
          if (queue.length > 0 && !scheduled) flush();
        });
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
