/**
 * Open-loop load: requests are scheduled by time at a fixed rate, not by the completion of earlier
 * ones, so a slow server shows up as latency and missed rate instead of silently lowering the load
 * (coordinated omission). Concurrency is bounded; requests that cannot start wait in a bounded
 * backlog and keep their scheduled time, and the oldest are dropped (and counted) when it overflows.
 */

export interface OpenLoopOptions {
  readonly ratePerSec: number;
  readonly durationMs: number;
  readonly concurrencyMax: number;
  readonly backlogMax: number;
  readonly nowMs: () => number;
  /** Sends one request scheduled at `scheduledAtMs`; a rejection is counted, never thrown. */
  readonly issue: (scheduledAtMs: number, index: number) => Promise<void>;
  /** Stops scheduling new requests early (Ctrl-C); requests in flight still finish. */
  readonly signal?: AbortSignal;
}

export interface OpenLoopStats {
  scheduled: number;
  started: number;
  completed: number;
  errors: number;
  dropped: number;
  inFlight: number;
  backlog: number;
}

export interface OpenLoop {
  readonly stats: Readonly<OpenLoopStats>;
  /** Resolves once scheduling ended and every started request finished. */
  readonly done: Promise<Readonly<OpenLoopStats>>;
}

const tickMs = 1;

interface Scheduled {
  readonly atMs: number;
  readonly index: number;
}

/**
 * FIFO of scheduled requests that advances a head index instead of shifting (O(1) per take) and
 * compacts once the consumed prefix dominates, so a long run does not keep every request ever made.
 */
function createBacklog() {
  const items: Scheduled[] = [];
  let head = 0;
  const pending = () => items.length - head;
  return {
    pending,
    push: (item: Scheduled) => {
      items.push(item);
    },
    take: (): Scheduled => items[head++] as Scheduled,
    dropOldest: () => {
      head += 1;
    },
    compact: () => {
      if (head > 4096 && head * 2 > items.length) {
        items.splice(0, head);
        head = 0;
      }
    },
  };
}

export function startOpenLoop(options: OpenLoopOptions): OpenLoop {
  if (!(options.ratePerSec > 0)) throw new RangeError("ratePerSec must be positive");
  const intervalMs = 1000 / options.ratePerSec;
  const total = Math.max(1, Math.floor((options.durationMs / 1000) * options.ratePerSec));
  const stats: OpenLoopStats = {
    scheduled: 0,
    started: 0,
    completed: 0,
    errors: 0,
    dropped: 0,
    inFlight: 0,
    backlog: 0,
  };
  const backlog = createBacklog();
  const startMs = options.nowMs();
  let finish: (stats: OpenLoopStats) => void = () => {};
  const done = new Promise<OpenLoopStats>((resolve) => {
    finish = resolve;
  });
  let scheduling = true;

  const maybeFinish = () => {
    if (!scheduling && stats.inFlight === 0 && backlog.pending() === 0) finish({ ...stats });
  };
  const startNext = () => {
    while (stats.inFlight < options.concurrencyMax && backlog.pending() > 0) {
      const next = backlog.take();
      stats.inFlight += 1;
      stats.started += 1;
      options.issue(next.atMs, next.index).then(
        () => settle(false),
        () => settle(true),
      );
    }
    backlog.compact();
    stats.backlog = backlog.pending();
  };
  const settle = (failed: boolean) => {
    stats.inFlight -= 1;
    stats.completed += 1;
    if (failed) stats.errors += 1;
    startNext();
    maybeFinish();
  };
  const tick = () => {
    const due = options.signal?.aborted
      ? stats.scheduled
      : Math.min(total, Math.floor((options.nowMs() - startMs) / intervalMs) + 1);
    while (stats.scheduled < due) {
      backlog.push({ atMs: startMs + stats.scheduled * intervalMs, index: stats.scheduled });
      stats.scheduled += 1;
    }
    while (backlog.pending() > options.backlogMax) {
      backlog.dropOldest();
      stats.dropped += 1;
    }
    startNext();
    if (stats.scheduled >= total || options.signal?.aborted) {
      scheduling = false;
      maybeFinish();
      return;
    }
    setTimeout(tick, tickMs);
  };
  tick();
  return { stats, done };
}
