/**
 * The social poster: a running component (where processors run) that posts due postings through
 * the social-posting port. Each posting is claimed with a lease longer than one attempt can last,
 * so under several workers each is attempted by one at a time; a failure is retried with
 * exponential backoff up to `attemptsMax`, then recorded as failed (shown on GET …/share).
 * Delivery is at least once across a crash between the POST and its record: the delivery id
 * header lets a receiver drop the repeat; otherwise every share is posted once per target.
 */
import type pino from "pino";
import type { Clock } from "../../platform/clock.ts";
import { retryDelayMs } from "./domain.ts";
import type { SocialPoster } from "./port.ts";
import type { ClaimedPosting, ShareStore } from "./store.ts";

export interface SharePosterOptions {
  readonly store: ShareStore;
  readonly poster: SocialPoster;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly timeoutMs: number;
  readonly attemptsMax: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly pollIntervalMs: number;
}

/** Postings claimed per round. */
const claimedPerRoundMax = 20;
/** A lease outlives an attempt by this much (the claim's clock and the attempt's timeout). */
const leaseMarginMs = 5_000;

async function attempt(options: SharePosterOptions, posting: ClaimedPosting): Promise<void> {
  const outcome = await options.poster.post(posting.target, {
    deliveryId: `${posting.connectionId}.${posting.target}`,
    body: posting.body,
  });
  const nowMs = options.clock.nowMs();
  if (outcome.ok) return options.store.delivered(posting, nowMs);
  const retryAtMs =
    posting.attempts >= options.attemptsMax
      ? undefined
      : nowMs + retryDelayMs(posting.attempts, options.backoffBaseMs, options.backoffMaxMs);
  options.logger.warn(
    {
      connectionId: posting.connectionId,
      attempts: posting.attempts,
      error: outcome.error,
      retry: retryAtMs !== undefined,
    },
    "community share: posting failed",
  );
  await options.store.attemptFailed(posting, outcome.error, retryAtMs);
}

export function startSharePoster(options: SharePosterOptions): { wake(): void; stop(): Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  const leaseMs = options.timeoutMs + leaseMarginMs;

  const round = async () => {
    for (;;) {
      const due = await options.store.claimDue(options.clock.nowMs(), leaseMs, claimedPerRoundMax);
      if (due.length === 0 || stopped) return;
      await Promise.all(due.map((posting) => attempt(options, posting)));
    }
  };
  const run = () => {
    if (stopped || running !== undefined) return;
    if (timer !== undefined) clearTimeout(timer);
    running = round()
      .catch((error) => options.logger.warn({ err: error }, "community share poster"))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(run, options.pollIntervalMs);
      });
  };
  run();
  return {
    wake: () => setImmediate(run),
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
