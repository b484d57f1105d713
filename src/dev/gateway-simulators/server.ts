/**
 * A simulated third-party payment gateway: a real HTTP server (Fastify) on 127.0.0.1 that stands in
 * for a card acquirer, an instant SEPA rail, an e-money wallet or a custody bank. Its behaviour
 * (latency, errors, timeouts, asynchronous completion, declines, rate limit, outages) comes from a
 * profile (profile.ts) that can be changed at runtime; every draw uses the injected seeded random.
 *
 * Gateway API (JSON; errors are RFC 9457 problem details, `application/problem+json`)
 *
 *   POST /payments
 *     Header  Idempotency-Key: <1..255 visible ASCII chars>            (required)
 *     Body    { paymentId, amount: "<minor units, decimal integer>", currency: "EUR",
 *               direction: "payin" | "payout", method?, account?, iban?, region?, callbackUrl? }
 *     201     PaymentView { gatewayPaymentId, paymentId, idempotencyKey, gateway,
 *                           status: "succeeded" | "failed" | "pending" (| "reversed" later),
 *                           reason?, amount, currency, direction, method?, createdAt,
 *                           completedAt?, reversedAt? }   (reason "declined" when failed)
 *     200     the same key and the same body again: the stored payment with its current status and
 *             header `Idempotent-Replayed: true`; it is never captured a second time. Concurrent
 *             duplicates wait for the first request and get the same payment.
 *     409     `conflict`: the key was used with a different body.
 *     400     `validation_failed` (missing key, malformed body).
 *     422     the gateway cannot serve this payment; code `currency_not_supported`,
 *             `method_not_supported`, `region_not_supported`, `amount_above_limit` or
 *             `iban_required`. Nothing is stored: routing elsewhere is safe.
 *     429     `rate_limited`, header Retry-After (s) and `retryAfterMs` in the body. Nothing stored.
 *     500     `internal` (simulated processor error, profile.errorRate). Nothing captured or stored:
 *             retrying, with the same key or elsewhere, is safe.
 *     503     `unavailable` (outage). Nothing stored; Retry-After when the window's end is known.
 *     200     the key was voided (`POST /payments/:idempotencyKey/void`): `VoidedView` with status
 *             "voided" and header `Idempotent-Replayed: true`, whatever the body. Nothing executed.
 *     (none)  timeout (profile.timeoutRate): the request is accepted and never answered; the socket
 *             is closed after profile.timeoutHangMs. A coin flip decides whether it was executed:
 *             ask `GET /payments/:idempotencyKey` before retrying elsewhere — 200 with "succeeded"
 *             means it was captured. A 404 proves nothing yet: the request may still be on its way
 *             (queued in a proxy, a socket buffer, a busy server) and execute after the answer. Only
 *             a void (below) answered "voided" proves it never will.
 *     A "pending" payment completes after profile.completionLatency. When it completes, or at once
 *     for a final answer, and `callbackUrl` was given, the gateway POSTs a signed callback:
 *       body    { eventId, type: "payment.completed" | "payment.reversed", gatewayPaymentId,
 *                 paymentId, idempotencyKey, status, reason?, amount, currency, at }
 *       headers X-Signature: t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (signature.ts),
 *               X-Event-Id: <eventId>
 *       Delivery is at least once: non-2xx or no answer → retried with backoff (same eventId,
 *       fresh signature). Receivers verify with `verifyCallbackSignature` and drop seen eventIds.
 *
 *   GET /payments/:idempotencyKey        → 200 PaymentView | 200 VoidedView | 404 `not_found`
 *   POST /payments/:idempotencyKey/void  (no body) query-then-void, atomically, like an acquirer's
 *                                          "technical cancel" by merchant reference:
 *                                          → 200 PaymentView when a payment exists under the key
 *                                            (any status, unchanged: the void does not apply), or
 *                                          → 200 VoidedView { idempotencyKey, gateway,
 *                                            status: "voided", voidedAt } when none does: the key is
 *                                            dead from now on, and a request with it that arrives
 *                                            later (the timed-out original) is answered "voided" and
 *                                            never executed. Voiding again answers the same.
 *   GET /payments?paymentId=<id>         → 200 { payments: PaymentView[] } (any key used for it)
 *     All three are rate limited and answer 503 during an outage, like a real gateway.
 *   GET /health                          → 200 { status: "up", gateway, kind } | 503 during an outage
 *
 * Admin API (not rate limited, works during outages; the simulator listens on loopback only):
 *   GET  /admin/profile                  → { profile, uptimeMs, down }
 *   PUT  /admin/profile   partial profile → { profile, uptimeMs, down } | 400 `validation_failed`
 *   POST /admin/outage    { down: boolean, forMs? } → down now / up now (ends active windows), or
 *                                          down for forMs from now; → { profile, uptimeMs, down }
 *   GET  /admin/captures                 → CapturesReport { gateway, total, captures,
 *                                          countsByPaymentId, duplicates }
 *   GET  /admin/stats                    → counters (requests, created, replayed, timeouts, ...)
 *   POST /admin/reversals { idempotencyKey, reason? } → a succeeded payment becomes "reversed"
 *                                          (chargeback / return; reason defaults to "chargeback");
 *                                          callback type "payment.reversed" if it had a callbackUrl.
 *                                          The capture stays in the record: money moved, then back.
 *
 * Outage windows in the profile are [fromMs, toMs) relative to the simulator's start (`uptimeMs`).
 */

import { setTimeout as delay } from "node:timers/promises";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { z } from "zod";
import { signCallback } from "../../payments/index.ts";
import { type Clock, type IdGenerator, type Random, seededIds } from "../../platform/clock.ts";
import type { Problem, ProblemCode } from "../../platform/http/problems.ts";
import { problem, rejectionProblem } from "../../platform/http/problems.ts";
import { sampleLatencyMs } from "./latency.ts";
import {
  type CapturesReport,
  createPaymentStore,
  fingerprintOf,
  type PaymentRecord,
  type PaymentRequest,
} from "./payment-store.ts";
import {
  applyProfilePatch,
  completeProfile,
  type GatewayProfile,
  type GatewayProfileInput,
  type ProfileValidation,
} from "./profile.ts";
import { createTokenBucket, type TokenBucket } from "./rate-limiter.ts";

export interface CallbackDeliveryOptions {
  readonly attemptsMax: number;
  readonly backoffBaseMs: number;
  /** Per attempt. */
  readonly timeoutMs: number;
}

export interface GatewaySimulatorOptions {
  readonly profile: GatewayProfileInput;
  readonly random: Random;
  readonly clock: Clock;
  /** Shared with the receiver of callbacks. */
  readonly callbackSecret: string;
  /** Defaults to ids drawn from `random`. */
  readonly ids?: IdGenerator;
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly callbackDelivery?: Partial<CallbackDeliveryOptions>;
}

export interface GatewaySimulator {
  readonly name: string;
  readonly url: string;
  readonly callbackSecret: string;
  profile(): GatewayProfile;
  updateProfile(patch: unknown): ProfileValidation;
  captures(): CapturesReport;
  stats(): Readonly<SimulatorStats>;
  stop(): Promise<void>;
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

const defaultCallbackDelivery: CallbackDeliveryOptions = {
  attemptsMax: 6,
  backoffBaseMs: 50,
  timeoutMs: 2_000,
};
const bodyLimitBytes = 16 * 1024;

const paymentBodySchema = z
  .object({
    paymentId: z.string().min(1).max(128),
    amount: z.string().regex(/^[1-9][0-9]{0,37}$/, "a positive decimal-integer string of minor units"),
    currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code"),
    direction: z.enum(["payin", "payout"]),
    method: z
      .string()
      .regex(/^[a-z0-9_]{1,32}$/)
      .optional(),
    account: z.string().min(1).max(128).optional(),
    iban: z
      .string()
      .regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/, "an IBAN without spaces")
      .optional(),
    region: z
      .string()
      .regex(/^[A-Z]{2,8}$/)
      .optional(),
    callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

const outageBodySchema = z
  .object({ down: z.boolean(), forMs: z.number().int().positive().optional() })
  .strict()
  .refine((body) => body.down || body.forMs === undefined, { message: "forMs only goes with down: true" });

const reversalBodySchema = z
  .object({
    idempotencyKey: z.string().min(1),
    reason: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/)
      .optional(),
  })
  .strict();

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

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

function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type("application/problem+json").send(body);
}

export async function startGatewaySimulator(options: GatewaySimulatorOptions): Promise<GatewaySimulator> {
  const initial = completeProfile(options.profile);
  if (!initial.ok) throw new RangeError(`invalid gateway profile: ${initial.field}: ${initial.detail}`);
  let profile = initial.profile;
  const { random, clock, callbackSecret } = options;
  const ids = options.ids ?? seededIds(random);
  const delivery = { ...defaultCallbackDelivery, ...options.callbackDelivery };
  const startedAtMs = clock.nowMs();
  const store = createPaymentStore(profile.name);
  const stopping = new AbortController();
  const background = new Set<Promise<void>>();
  const stats: SimulatorStats = {
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
  let bucket: TokenBucket | null =
    profile.rateLimit === null ? null : createTokenBucket(clock, profile.rateLimit);

  const uptimeMs = (): number => clock.nowMs() - startedAtMs;

  const setProfile = (next: GatewayProfile): void => {
    if (JSON.stringify(next.rateLimit) !== JSON.stringify(profile.rateLimit)) {
      bucket = next.rateLimit === null ? null : createTokenBucket(clock, next.rateLimit);
    }
    profile = next;
  };

  /** Undefined when up; otherwise when the outage is known to end (null: not known). */
  const outage = (): { endsInMs: number | null } | undefined => {
    if (profile.down) return { endsInMs: null };
    const now = uptimeMs();
    const window = profile.outages.find((w) => now >= w.fromMs && now < w.toMs);
    return window === undefined ? undefined : { endsInMs: window.toMs - now };
  };

  const sleep = async (ms: number): Promise<void> => {
    // A zero latency must cost nothing, not a timer tick: it is the throughput benchmark's setting.
    if (ms > 0) await delay(ms, undefined, { signal: stopping.signal });
  };

  const runInBackground = (task: () => Promise<void>): void => {
    const running = task()
      .catch(() => {})
      .finally(() => background.delete(running));
    background.add(running);
  };

  /** Outage and rate limit, in that order: a gateway that is down does not count requests. */
  const refuse = (reply: FastifyReply, rateLimited: boolean): FastifyReply | undefined => {
    const down = outage();
    if (down !== undefined) {
      stats.unavailable++;
      if (down.endsInMs !== null)
        reply.header("retry-after", String(Math.max(1, Math.ceil(down.endsInMs / 1000))));
      return sendProblem(
        reply,
        problem("unavailable", { detail: `gateway ${profile.name} is down (simulated outage)` }),
      );
    }
    if (!rateLimited || bucket === null) return undefined;
    const decision = bucket.take();
    if (decision.allowed) return undefined;
    stats.rateLimited++;
    reply.header("retry-after", String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
    return sendProblem(reply, problem("rate_limited", { extra: { retryAfterMs: decision.retryAfterMs } }));
  };

  const complete = (record: PaymentRecord, declined: boolean): void => {
    record.completedAtMs = clock.nowMs();
    if (declined) {
      record.status = "failed";
      record.reason = "declined";
      return;
    }
    record.status = "succeeded";
    store.capture(record, record.completedAtMs);
  };

  const deliverCallback = async (
    record: PaymentRecord,
    callbackUrl: string,
    type: "payment.completed" | "payment.reversed",
  ): Promise<void> => {
    const eventId = ids.uuid();
    const view = store.view(record);
    const rawBody = JSON.stringify({
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
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(delivery.timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok) {
          stats.callbacksDelivered++;
          return;
        }
      } catch {
        // Refused, reset or timed out: the receiver may be restarting; try again below.
      }
      if (stopping.signal.aborted) return;
      if (attempt < delivery.attemptsMax) await sleep(delivery.backoffBaseMs * 2 ** (attempt - 1));
    }
    stats.callbacksFailed++;
  };

  const finish = (record: PaymentRecord, declined: boolean): void => {
    complete(record, declined);
    const { callbackUrl } = record.request;
    if (callbackUrl !== undefined)
      runInBackground(() => deliverCallback(record, callbackUrl, "payment.completed"));
  };

  /** Holds an accepted request without answering, then drops the connection. */
  const hang = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.hijack();
    const socket = request.raw.socket;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.off("close", done);
        stopping.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, profile.timeoutHangMs);
      socket.once("close", done);
      stopping.signal.addEventListener("abort", done, { once: true });
    });
    socket.destroy();
  };

  const processNewPayment = async (
    request: FastifyRequest,
    reply: FastifyReply,
    idempotencyKey: string,
    payment: PaymentRequest,
  ): Promise<FastifyReply> => {
    const fate = drawFate(profile, random);
    let settle = (): void => {};
    const record: PaymentRecord = {
      gatewayPaymentId: `${profile.name}_${ids.uuid().replaceAll("-", "")}`,
      idempotencyKey,
      request: payment,
      fingerprint: fingerprintOf(payment),
      createdAtMs: clock.nowMs(),
      status: "pending",
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
    };
    // Registered before the first await, so a concurrent duplicate finds it and waits for it.
    store.add(record);
    try {
      if (fate.timeout) {
        if (fate.executedDespiteTimeout) {
          stats.timeoutsExecuted++;
          finish(record, false);
        } else {
          stats.timeoutsLost++;
          store.forget(record);
        }
        settle();
        await hang(request, reply);
        return reply;
      }
      await sleep(fate.latencyMs);
      if (fate.error) {
        stats.errors++;
        store.forget(record);
        return sendProblem(
          reply,
          problem("internal", { detail: `gateway ${profile.name}: simulated processor error` }),
        );
      }
      stats.created++;
      if (fate.pending) {
        runInBackground(async () => {
          await sleep(fate.completionMs);
          finish(record, fate.declined);
        });
      } else {
        finish(record, fate.declined);
      }
      return reply.code(201).send(store.view(record));
    } finally {
      settle();
    }
  };

  const app = Fastify({ logger: false, bodyLimit: bodyLimitBytes, forceCloseConnections: true });

  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode ?? 500;
    const code: ProblemCode =
      status === 413
        ? "body_too_large"
        : status === 415
          ? "unsupported_media_type"
          : status >= 400 && status < 500
            ? "validation_failed"
            : "internal";
    // Framework messages stay inside: the client learns the kind of problem, not our internals.
    const detail = code === "validation_failed" ? "the request could not be parsed" : undefined;
    return sendProblem(reply, problem(code, detail === undefined ? {} : { detail }));
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, problem("not_found")));

  app.post("/payments", async (request, reply) => {
    stats.requests++;
    const refused = refuse(reply, true);
    if (refused !== undefined) return refused;
    const idempotencyKey = request.headers["idempotency-key"];
    if (typeof idempotencyKey !== "string" || !idempotencyKeyPattern.test(idempotencyKey)) {
      return sendProblem(
        reply,
        problem("validation_failed", {
          field: "Idempotency-Key",
          detail: "header required: 1..255 visible ASCII",
        }),
      );
    }
    const parsed = paymentBodySchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendProblem(
        reply,
        problem("validation_failed", {
          field: issue?.path.join("/") ?? "",
          detail: issue?.message ?? "invalid body",
        }),
      );
    }
    const { amount, ...rest } = parsed.data;
    const payment: PaymentRequest = { ...rest, amount: BigInt(amount) };
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
    const reason = unsupportedReason(profile, payment);
    if (reason !== undefined) {
      stats.rejected++;
      return sendProblem(reply, rejectionProblem(reason, { gateway: profile.name }));
    }
    return processNewPayment(request, reply, idempotencyKey, payment);
  });

  app.get<{ Params: { idempotencyKey: string } }>("/payments/:idempotencyKey", async (request, reply) => {
    stats.requests++;
    const refused = refuse(reply, true);
    if (refused !== undefined) return refused;
    const record = store.byKey(request.params.idempotencyKey);
    if (record !== undefined) return store.view(record);
    const voided = store.voided(request.params.idempotencyKey);
    if (voided !== undefined) return voided;
    return sendProblem(reply, problem("not_found", { detail: "no payment with this key" }));
  });

  app.post<{ Params: { idempotencyKey: string } }>(
    "/payments/:idempotencyKey/void",
    async (request, reply) => {
      stats.requests++;
      const refused = refuse(reply, true);
      if (refused !== undefined) return refused;
      const { idempotencyKey } = request.params;
      if (!idempotencyKeyPattern.test(idempotencyKey)) {
        return sendProblem(
          reply,
          problem("validation_failed", { field: "idempotencyKey", detail: "1..255 visible ASCII" }),
        );
      }
      const wasVoided = store.voided(idempotencyKey) !== undefined;
      const answer = store.voidKey(idempotencyKey, clock.nowMs());
      if ("request" in answer) return store.view(answer);
      if (!wasVoided) stats.voided++;
      return answer;
    },
  );

  app.get<{ Querystring: { paymentId?: string } }>("/payments", async (request, reply) => {
    stats.requests++;
    const refused = refuse(reply, true);
    if (refused !== undefined) return refused;
    const { paymentId } = request.query;
    if (typeof paymentId !== "string" || paymentId === "") {
      return sendProblem(
        reply,
        problem("validation_failed", { field: "paymentId", detail: "query parameter required" }),
      );
    }
    return { payments: store.byPaymentId(paymentId).map((record) => store.view(record)) };
  });

  app.get("/health", async (_request, reply) => {
    const refused = refuse(reply, false);
    if (refused !== undefined) return refused;
    return { status: "up", gateway: profile.name, kind: profile.kind };
  });

  const profileAnswer = () => ({ profile, uptimeMs: uptimeMs(), down: outage() !== undefined });

  app.get("/admin/profile", async () => profileAnswer());

  app.put("/admin/profile", async (request, reply) => {
    const result = applyProfilePatch(profile, request.body);
    if (!result.ok)
      return sendProblem(reply, problem("validation_failed", { field: result.field, detail: result.detail }));
    setProfile(result.profile);
    return profileAnswer();
  });

  app.post("/admin/outage", async (request, reply) => {
    const parsed = outageBodySchema.safeParse(request.body);
    if (!parsed.success) {
      return sendProblem(
        reply,
        problem("validation_failed", { detail: parsed.error.issues[0]?.message ?? "" }),
      );
    }
    const now = uptimeMs();
    const { down, forMs } = parsed.data;
    if (down && forMs !== undefined) {
      setProfile({ ...profile, outages: [...profile.outages, { fromMs: now, toMs: now + forMs }] });
    } else if (down) {
      setProfile({ ...profile, down: true });
    } else {
      // Up now: clear the switch and cut short any window in progress; future windows stay.
      const outages = profile.outages.flatMap((w) =>
        now >= w.fromMs && now < w.toMs ? (now > w.fromMs ? [{ fromMs: w.fromMs, toMs: now }] : []) : [w],
      );
      setProfile({ ...profile, down: false, outages });
    }
    return profileAnswer();
  });

  app.get("/admin/captures", async () => store.capturesReport());
  app.get("/admin/stats", async () => ({ gateway: profile.name, ...stats }));

  app.post("/admin/reversals", async (request, reply) => {
    const parsed = reversalBodySchema.safeParse(request.body);
    if (!parsed.success) {
      return sendProblem(
        reply,
        problem("validation_failed", { detail: parsed.error.issues[0]?.message ?? "" }),
      );
    }
    const record = store.byKey(parsed.data.idempotencyKey);
    if (record === undefined)
      return sendProblem(reply, problem("not_found", { detail: "no payment with this key" }));
    if (record.status !== "succeeded") {
      return sendProblem(
        reply,
        problem("conflict", { detail: `only a succeeded payment can be reversed, not ${record.status}` }),
      );
    }
    record.status = "reversed";
    record.reason = parsed.data.reason ?? "chargeback";
    record.reversedAtMs = clock.nowMs();
    const { callbackUrl } = record.request;
    if (callbackUrl !== undefined)
      runInBackground(() => deliverCallback(record, callbackUrl, "payment.reversed"));
    return store.view(record);
  });

  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("simulator did not bind a TCP port");
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    name: profile.name,
    url,
    callbackSecret,
    profile: () => profile,
    updateProfile(patch) {
      const result = applyProfilePatch(profile, patch);
      if (result.ok) setProfile(result.profile);
      return result;
    },
    captures: () => store.capturesReport(),
    stats: () => ({ ...stats }),
    async stop() {
      stopping.abort();
      await app.close();
      await Promise.allSettled([...background]);
    },
  };
}
