/**
 * One simulated gateway's state and behaviour behind its HTTP API (server.ts starts it, routes.ts
 * maps requests onto it): the profile in force, outages and rate limit, the payment store, the fate
 * of each new payment, completion and signed callbacks, and the counters.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import { signCallback } from "../../payments/index.ts";
import type { Clock, IdGenerator, Random } from "../../platform/clock.ts";
import type { Problem } from "../../platform/http/problems.ts";
import { problem, rejectionProblem } from "../../platform/http/problems.ts";
import { sampleLatencyMs } from "./latency.ts";
import {
  createPaymentStore,
  fingerprintOf,
  type PaymentRecord,
  type PaymentRequest,
} from "./payment-store.ts";
import type { GatewayProfile } from "./profile.ts";
import { createTokenBucket, type TokenBucket } from "./rate-limiter.ts";

export interface CallbackDeliveryOptions {
  readonly attemptsMax: number;
  readonly backoffBaseMs: number;
  /** Per attempt. */
  readonly timeoutMs: number;
}

export interface SimulatorStats {
  requests: number;
  created: number;
  replayed: number;
  conflicts: number;
  rejected: number;
  errors: number;
  timeoutsExecuted: number;
  timeoutsLost: number;
  rateLimited: number;
  unavailable: number;
  /** Keys voided by `POST /payments/:idempotencyKey/void` with no payment under them. */
  voided: number;
  /** Payment requests refused because their key had been voided. */
  voidedRefused: number;
  callbacksDelivered: number;
  callbacksFailed: number;
}

export interface SimulatedGatewayDeps {
  readonly profile: GatewayProfile;
  readonly random: Random;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly callbackSecret: string;
  readonly delivery: CallbackDeliveryOptions;
}

/** What happens to one new payment, drawn up front with a fixed number of draws per payment. */
interface Fate {
  readonly error: boolean;
  readonly timeout: boolean;
  readonly executedDespiteTimeout: boolean;
  readonly pending: boolean;
  readonly declined: boolean;
  readonly latencyMs: number;
  readonly completionMs: number;
}

function drawFate(profile: GatewayProfile, random: Random): Fate {
  const error = random.next() < profile.errorRate;
  const timeout = random.next() < profile.timeoutRate;
  const executedDespiteTimeout = random.next() < 0.5;
  const pending = random.next() < profile.pendingRate;
  const declined = random.next() < profile.declineRate;
  const latencyMs = sampleLatencyMs(profile.latency, random);
  const completionMs = sampleLatencyMs(profile.completionLatency, random);
  return { error, timeout, executedDespiteTimeout, pending, declined, latencyMs, completionMs };
}

/** Why this gateway cannot serve the payment at all (a stable code), or undefined. */
function unsupportedReason(profile: GatewayProfile, request: PaymentRequest): string | undefined {
  if (!profile.currencies.includes(request.currency)) return "currency_not_supported";
  if (request.method !== undefined && !profile.methods.includes(request.method))
    return "method_not_supported";
  if (request.region !== undefined && !profile.regions.includes(request.region))
    return "region_not_supported";
  if (profile.amountMax !== null && request.amount > BigInt(profile.amountMax)) return "amount_above_limit";
  if (profile.kind === "sepa_instant" && request.iban === undefined) return "iban_required";
  return undefined;
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type("application/problem+json").send(body);
}

export class SimulatedGateway {
  profile: GatewayProfile;
  readonly stats: SimulatorStats = {
    requests: 0,
    created: 0,
    replayed: 0,
    conflicts: 0,
    rejected: 0,
    errors: 0,
    timeoutsExecuted: 0,
    timeoutsLost: 0,
    rateLimited: 0,
    unavailable: 0,
    voided: 0,
    voidedRefused: 0,
    callbacksDelivered: 0,
    callbacksFailed: 0,
  };
  readonly store: ReturnType<typeof createPaymentStore>;
  private readonly deps: SimulatedGatewayDeps;
  private readonly startedAtMs: number;
  private readonly stopping = new AbortController();
  private readonly background = new Set<Promise<void>>();
  private bucket: TokenBucket | null;

  constructor(deps: SimulatedGatewayDeps) {
    this.deps = deps;
    this.profile = deps.profile;
    this.startedAtMs = deps.clock.nowMs();
    this.store = createPaymentStore(deps.profile.name);
    this.bucket =
      deps.profile.rateLimit === null ? null : createTokenBucket(deps.clock, deps.profile.rateLimit);
  }

  /** The gateway's clock (injected), for the times it records. */
  nowMs(): number {
    return this.deps.clock.nowMs();
  }

  uptimeMs(): number {
    return this.deps.clock.nowMs() - this.startedAtMs;
  }

  setProfile(next: GatewayProfile): void {
    if (JSON.stringify(next.rateLimit) !== JSON.stringify(this.profile.rateLimit)) {
      this.bucket = next.rateLimit === null ? null : createTokenBucket(this.deps.clock, next.rateLimit);
    }
    this.profile = next;
  }

  /** Undefined when up; otherwise when the outage is known to end (null: not known). */
  outage(): { endsInMs: number | null } | undefined {
    if (this.profile.down) return { endsInMs: null };
    const now = this.uptimeMs();
    const window = this.profile.outages.find((w) => now >= w.fromMs && now < w.toMs);
    return window === undefined ? undefined : { endsInMs: window.toMs - now };
  }

  profileAnswer() {
    return { profile: this.profile, uptimeMs: this.uptimeMs(), down: this.outage() !== undefined };
  }

  /** Outage and rate limit, in that order: a gateway that is down does not count requests. */
  refuse(reply: FastifyReply, rateLimited: boolean): FastifyReply | undefined {
    const down = this.outage();
    if (down !== undefined) {
      this.stats.unavailable++;
      if (down.endsInMs !== null)
        reply.header("retry-after", String(Math.max(1, Math.ceil(down.endsInMs / 1000))));
      return sendProblem(
        reply,
        problem("unavailable", { detail: `gateway ${this.profile.name} is down (simulated outage)` }),
      );
    }
    if (!rateLimited || this.bucket === null) return undefined;
    const decision = this.bucket.take();
    if (decision.allowed) return undefined;
    this.stats.rateLimited++;
    reply.header("retry-after", String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
    return sendProblem(reply, problem("rate_limited", { extra: { retryAfterMs: decision.retryAfterMs } }));
  }

  /**
   * A payment request under `idempotencyKey`: a replay answers the stored payment (waiting for a
   * concurrent first attempt), a different body under the key is a conflict, a payment this gateway
   * cannot serve is refused, anything else is a new payment.
   */
  async pay(
    request: FastifyRequest,
    reply: FastifyReply,
    idempotencyKey: string,
    payment: PaymentRequest,
  ): Promise<FastifyReply> {
    const { store, stats } = this;
    const fingerprint = fingerprintOf(payment);
    for (
      let existing = store.byKey(idempotencyKey);
      existing !== undefined;
      existing = store.byKey(idempotencyKey)
    ) {
      if (existing.fingerprint !== fingerprint) {
        stats.conflicts++;
        return sendProblem(
          reply,
          problem("conflict", {
            field: "Idempotency-Key",
            detail: "this key was used with a different body",
          }),
        );
      }
      await existing.settled;
      if (store.byKey(idempotencyKey) === existing) {
        stats.replayed++;
        return reply.code(200).header("idempotent-replayed", "true").send(store.view(existing));
      }
      // The first attempt left no trace (500, or lost in a timeout): this one is a new attempt.
    }
    // Checked with no await between it and the record's creation: a void lands before or after.
    const voided = store.voided(idempotencyKey);
    if (voided !== undefined) {
      stats.voidedRefused++;
      return reply.code(200).header("idempotent-replayed", "true").send(voided);
    }
    const reason = unsupportedReason(this.profile, payment);
    if (reason !== undefined) {
      stats.rejected++;
      return sendProblem(reply, rejectionProblem(reason, { gateway: this.profile.name }));
    }
    return this.processNewPayment(request, reply, idempotencyKey, payment);
  }

  /** A succeeded payment becomes reversed (chargeback or return); its callback follows. */
  reverse(record: PaymentRecord, reason: string): void {
    record.status = "reversed";
    record.reason = reason;
    record.reversedAtMs = this.deps.clock.nowMs();
    const { callbackUrl } = record.request;
    if (callbackUrl !== undefined)
      this.runInBackground(() => this.deliverCallback(record, callbackUrl, "payment.reversed"));
  }

  /** Ends hanging requests, pending completions and callback retries. */
  async stop(closeServer: () => Promise<void>): Promise<void> {
    this.stopping.abort();
    await closeServer();
    await Promise.allSettled([...this.background]);
  }

  private async processNewPayment(
    request: FastifyRequest,
    reply: FastifyReply,
    idempotencyKey: string,
    payment: PaymentRequest,
  ): Promise<FastifyReply> {
    const { profile, stats, store } = this;
    const fate = drawFate(profile, this.deps.random);
    let settle = (): void => {};
    const record: PaymentRecord = {
      gatewayPaymentId: `${profile.name}_${this.deps.ids.uuid().replaceAll("-", "")}`,
      idempotencyKey,
      request: payment,
      fingerprint: fingerprintOf(payment),
      createdAtMs: this.deps.clock.nowMs(),
      status: "pending",
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
    };
    // Registered before the first await, so a concurrent duplicate finds it and waits for it.
    store.add(record);
    try {
      if (fate.timeout) {
        this.timeOut(record, fate);
        settle();
        await this.hang(request, reply);
        return reply;
      }
      await this.sleep(fate.latencyMs);
      if (fate.error) {
        stats.errors++;
        store.forget(record);
        return sendProblem(
          reply,
          problem("internal", { detail: `gateway ${this.profile.name}: simulated processor error` }),
        );
      }
      stats.created++;
      if (fate.pending) {
        this.runInBackground(async () => {
          await this.sleep(fate.completionMs);
          this.finish(record, fate.declined);
        });
      } else {
        this.finish(record, fate.declined);
      }
      return reply.code(201).send(store.view(record));
    } finally {
      settle();
    }
  }

  /** A timed-out request was executed anyway, or left no trace: a coin flip drawn in its fate. */
  private timeOut(record: PaymentRecord, fate: Fate): void {
    if (fate.executedDespiteTimeout) {
      this.stats.timeoutsExecuted++;
      this.finish(record, false);
    } else {
      this.stats.timeoutsLost++;
      this.store.forget(record);
    }
  }

  private async sleep(ms: number): Promise<void> {
    // A zero latency must cost nothing, not a timer tick: it is the throughput benchmark's setting.
    if (ms > 0) await delay(ms, undefined, { signal: this.stopping.signal });
  }

  private runInBackground(task: () => Promise<void>): void {
    const running = task()
      .catch(() => {})
      .finally(() => this.background.delete(running));
    this.background.add(running);
  }

  private complete(record: PaymentRecord, declined: boolean): void {
    record.completedAtMs = this.deps.clock.nowMs();
    if (declined) {
      record.status = "failed";
      record.reason = "declined";
      return;
    }
    record.status = "succeeded";
    this.store.capture(record, record.completedAtMs);
  }

  private finish(record: PaymentRecord, declined: boolean): void {
    this.complete(record, declined);
    const { callbackUrl } = record.request;
    if (callbackUrl !== undefined)
      this.runInBackground(() => this.deliverCallback(record, callbackUrl, "payment.completed"));
  }

  private callbackBody(
    record: PaymentRecord,
    eventId: string,
    type: "payment.completed" | "payment.reversed",
  ) {
    const view = this.store.view(record);
    return JSON.stringify({
      eventId,
      type,
      gatewayPaymentId: view.gatewayPaymentId,
      paymentId: view.paymentId,
      idempotencyKey: view.idempotencyKey,
      status: view.status,
      ...(view.reason === undefined ? {} : { reason: view.reason }),
      amount: view.amount,
      currency: view.currency,
      at: type === "payment.reversed" ? view.reversedAt : view.completedAt,
    });
  }

  /** At least once: retried with backoff (same eventId, fresh signature) until a 2xx or attemptsMax. */
  private async deliverCallback(
    record: PaymentRecord,
    callbackUrl: string,
    type: "payment.completed" | "payment.reversed",
  ): Promise<void> {
    const { delivery, clock, callbackSecret } = this.deps;
    const eventId = this.deps.ids.uuid();
    const rawBody = this.callbackBody(record, eventId, type);
    for (let attempt = 1; attempt <= delivery.attemptsMax; attempt++) {
      try {
        const response = await fetch(callbackUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-signature": signCallback(callbackSecret, rawBody, clock.nowMs()),
            "x-event-id": eventId,
          },
          body: rawBody,
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(delivery.timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok) {
          this.stats.callbacksDelivered++;
          return;
        }
      } catch {
        // Refused, reset or timed out: the receiver may be restarting; try again below.
      }
      if (this.stopping.signal.aborted) return;
      if (attempt < delivery.attemptsMax) await this.sleep(delivery.backoffBaseMs * 2 ** (attempt - 1));
    }
    this.stats.callbacksFailed++;
  }

  /** Holds an accepted request without answering, then drops the connection. */
  private async hang(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const socket = request.raw.socket;
    const { signal } = this.stopping;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.off("close", done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, this.profile.timeoutHangMs);
      socket.once("close", done);
      signal.addEventListener("abort", done, { once: true });
    });
    socket.destroy();
  }
}
