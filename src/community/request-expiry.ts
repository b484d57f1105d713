/**
 * Requests left unanswered past their expiry: the citizen is told (`request_expired`, also by Web
 * Push when their app is closed) and the request leaves the officer's incoming list
 * (`request_removed`). The process that made a request sets a timer for it; a sweep (at start and
 * every `sweepIntervalMs`) finds those whose process died or whose timer was not set (over
 * `timersMax`). Either marks the request expired with a conditional UPDATE, so whichever process
 * gets there first tells the participants, once; the hub reaches them on any process.
 */
import type { Clock } from "../platform/clock.ts";
import type { ConnectionRequest } from "./domain/requests.ts";
import type { Hub } from "./hub.ts";
import type { CommunityStore } from "./store.ts";

export interface RequestExpiryDeps {
  readonly store: Pick<CommunityStore, "expireRequest" | "expireDue">;
  readonly hub: Hub;
  readonly clock: Clock;
  readonly sweepIntervalMs: number;
  /** Timers held at most; requests beyond it are left to the sweep. */
  readonly timersMax: number;
  readonly onError: (error: unknown) => void;
}

export interface RequestExpiry {
  /** Sets the request's timer (this process made it). */
  schedule(request: Pick<ConnectionRequest, "id" | "expiresAtMs">): void;
  /** The request was answered: its timer is not needed. */
  cancel(requestId: string): void;
  /** Marks the request expired now if it is due and still pending (an answer found it expired). */
  expireNow(requestId: string): Promise<void>;
  /** Sweeps once now, then every `sweepIntervalMs`. */
  start(): void;
  stop(): void;
}

/** Requests marked per sweep query; a sweep repeats while it finds full batches. */
const sweepBatchMax = 500;
const timerDelayMaxMs = 2 ** 31 - 1;

export function announceExpired(hub: Hub, request: ConnectionRequest): void {
  hub.send(request.citizenId, {
    type: "request_expired",
    requestId: request.id,
    officerId: request.officerId,
  });
  hub.send(request.officerId, { type: "request_removed", requestId: request.id, reason: "expired" });
}

export function createRequestExpiry(deps: RequestExpiryDeps): RequestExpiry {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let interval: ReturnType<typeof setInterval> | undefined;
  let sweeping = false;
  const expireNow = async (requestId: string) => {
    const expired = await deps.store.expireRequest(requestId, deps.clock.nowMs());
    if (expired !== undefined) announceExpired(deps.hub, expired);
  };
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      for (;;) {
        const expired = await deps.store.expireDue(deps.clock.nowMs(), sweepBatchMax);
        for (const request of expired) announceExpired(deps.hub, request);
        if (expired.length < sweepBatchMax) return;
      }
    } finally {
      sweeping = false;
    }
  };
  return {
    schedule(request) {
      if (timers.size >= deps.timersMax || timers.has(request.id)) return;
      const delayMs = Math.min(Math.max(0, request.expiresAtMs - deps.clock.nowMs()), timerDelayMaxMs);
      const timer = setTimeout(() => {
        timers.delete(request.id);
        // Not due yet by the clock (it differs from the timer's): the sweep finds it later.
        expireNow(request.id).catch(deps.onError);
      }, delayMs);
      timer.unref();
      timers.set(request.id, timer);
    },
    cancel(requestId) {
      clearTimeout(timers.get(requestId));
      timers.delete(requestId);
    },
    expireNow,
    start() {
      sweep().catch(deps.onError);
      interval = setInterval(() => sweep().catch(deps.onError), deps.sweepIntervalMs);
      interval.unref();
    },
    stop() {
      clearInterval(interval);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
