/**
 * Who is connected to this process, by user: pushes reach only the user they concern (every socket
 * that user has open here). A user connected to another API process is not reached from here; the
 * distributed fan-out (the log or Redis pub/sub) is the next step (see the module's report).
 */
export type Push = Readonly<Record<string, unknown>> & { readonly type: string };

export interface Hub {
  /** Delivers to every socket of `userId` in this process; false when none is open here. */
  send(userId: string, push: Push): boolean;
  /** Registers a socket's sink; returns its removal, which says whether it was the user's last. */
  join(userId: string, sink: (push: Push) => void): () => boolean;
  size(): number;
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
  };
}
