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

import Fastify from "fastify";
import { type Clock, type IdGenerator, type Random, seededIds } from "../../platform/clock.ts";
import type { CapturesReport } from "./payment-store.ts";
import {
  applyProfilePatch,
  completeProfile,
  type GatewayProfile,
  type GatewayProfileInput,
  type ProfileValidation,
} from "./profile.ts";
import { adminRoutes, paymentRoutes, problemHandlers } from "./routes.ts";
import { type CallbackDeliveryOptions, SimulatedGateway, type SimulatorStats } from "./simulated-gateway.ts";

export type { CallbackDeliveryOptions, SimulatorStats } from "./simulated-gateway.ts";

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

const defaultCallbackDelivery: CallbackDeliveryOptions = {
  attemptsMax: 6,
  backoffBaseMs: 50,
  timeoutMs: 2_000,
};
const bodyLimitBytes = 16 * 1024;

export async function startGatewaySimulator(options: GatewaySimulatorOptions): Promise<GatewaySimulator> {
  const initial = completeProfile(options.profile);
  if (!initial.ok) throw new RangeError(`invalid gateway profile: ${initial.field}: ${initial.detail}`);
  const { random, clock, callbackSecret } = options;
  const gateway = new SimulatedGateway({
    profile: initial.profile,
    random,
    clock,
    ids: options.ids ?? seededIds(random),
    callbackSecret,
    delivery: { ...defaultCallbackDelivery, ...options.callbackDelivery },
  });

  const app = Fastify({ logger: false, bodyLimit: bodyLimitBytes, forceCloseConnections: true });
  problemHandlers(app);
  paymentRoutes(app, gateway);
  adminRoutes(app, gateway);

  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("simulator did not bind a TCP port");
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    name: gateway.profile.name,
    url,
    callbackSecret,
    profile: () => gateway.profile,
    updateProfile(patch) {
      const result = applyProfilePatch(gateway.profile, patch);
      if (result.ok) gateway.setProfile(result.profile);
      return result;
    },
    captures: () => gateway.store.capturesReport(),
    stats: () => ({ ...gateway.stats }),
    stop: () => gateway.stop(() => app.close()),
  };
}
