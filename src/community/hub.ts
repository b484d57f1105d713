/**
 * Who is connected to this process, by user: pushes reach only the user they concern (every socket
 * that user has open here). In distributed mode `redis-hub.ts` wraps this one so that a push also
 * reaches the user's sockets on other API processes.
 */
export type Push = Readonly<Record<string, unknown>> & { readonly type: string };

export interface Hub {
  /** Delivers to every socket of `userId` in this process; false when none is open here. */
  send(userId: string, push: Push): boolean;
  /** Registers a socket's sink; returns its removal, which says whether it was the user's last. */
  join(userId: string, sink: (push: Push) => void): () => boolean;
  size(): number;
  /** How many sockets `userId` has open here. */
  sizeOf(userId: string): number;
}

export function createHub(): Hub {
  const sinks = new Map<string, Set<(push: Push) => void>>();
  let count = 0;
  return {
    send(userId, push) {
      const set = sinks.get(userId);
      if (set === undefined) return false;
      for (const sink of set) sink(push);
      return true;
    },
    join(userId, sink) {
      const set = sinks.get(userId) ?? new Set();
      set.add(sink);
      sinks.set(userId, set);
      count++;
      return () => {
        if (set.delete(sink)) count--;
        if (set.size > 0) return false;
        sinks.delete(userId);
        return true;
      };
    },
    size: () => count,
    sizeOf: (userId) => sinks.get(userId)?.size ?? 0,
  };
}
