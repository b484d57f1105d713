/**
 * The simulated gateway's HTTP API (documented in server.ts): the payment API a payment processor
 * calls, and the admin API tests and operators use to steer the simulation.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ProblemCode } from "../../platform/http/problems.ts";
import { problem } from "../../platform/http/problems.ts";
import type { PaymentRequest } from "./payment-store.ts";
import { applyProfilePatch } from "./profile.ts";
import { type SimulatedGateway, sendProblem } from "./simulated-gateway.ts";

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

/** Every error is a problem document; framework messages stay inside. */
export function problemHandlers(app: FastifyInstance): void {
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
}

/** POST /payments, GET /payments/:idempotencyKey, its void, GET /payments?paymentId=, GET /health. */
export function paymentRoutes(app: FastifyInstance, gateway: SimulatedGateway): void {
  const { stats, store } = gateway;

  app.post("/payments", async (request, reply) => {
    stats.requests++;
    const refused = gateway.refuse(reply, true);
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
    return gateway.pay(request, reply, idempotencyKey, payment);
  });

  app.get<{ Params: { idempotencyKey: string } }>("/payments/:idempotencyKey", async (request, reply) => {
    stats.requests++;
    const refused = gateway.refuse(reply, true);
    if (refused !== undefined) return refused;
    const record = store.byKey(request.params.idempotencyKey);
    if (record !== undefined) return store.view(record);
    const voided = store.voided(request.params.idempotencyKey);
    if (voided !== undefined) return voided;
    return sendProblem(reply, problem("not_found", { detail: "no payment with this key" }));
  });

  voidRoute(app, gateway);

  app.get<{ Querystring: { paymentId?: string } }>("/payments", async (request, reply) => {
    stats.requests++;
    const refused = gateway.refuse(reply, true);
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
    const refused = gateway.refuse(reply, false);
    if (refused !== undefined) return refused;
    return { status: "up", gateway: gateway.profile.name, kind: gateway.profile.kind };
  });
}

/**
 * POST /payments/:idempotencyKey/void: query-then-void, atomically (see server.ts): the payment if
 * one exists under the key (unchanged), else the key is voided and a late original is refused.
 */
function voidRoute(app: FastifyInstance, gateway: SimulatedGateway): void {
  app.post<{ Params: { idempotencyKey: string } }>(
    "/payments/:idempotencyKey/void",
    async (request, reply) => {
      gateway.stats.requests++;
      const refused = gateway.refuse(reply, true);
      if (refused !== undefined) return refused;
      const { idempotencyKey } = request.params;
      if (!idempotencyKeyPattern.test(idempotencyKey)) {
        return sendProblem(
          reply,
          problem("validation_failed", { field: "idempotencyKey", detail: "1..255 visible ASCII" }),
        );
      }
      const wasVoided = gateway.store.voided(idempotencyKey) !== undefined;
      const answer = gateway.store.voidKey(idempotencyKey, gateway.nowMs());
      if ("request" in answer) return gateway.store.view(answer);
      if (!wasVoided) gateway.stats.voided++;
      return answer;
    },
  );
}

/** /admin/profile, /admin/outage, /admin/captures, /admin/stats, /admin/reversals. */
export function adminRoutes(app: FastifyInstance, gateway: SimulatedGateway): void {
  app.get("/admin/profile", async () => gateway.profileAnswer());

  app.put("/admin/profile", async (request, reply) => {
    const result = applyProfilePatch(gateway.profile, request.body);
    if (!result.ok)
      return sendProblem(reply, problem("validation_failed", { field: result.field, detail: result.detail }));
    gateway.setProfile(result.profile);
    return gateway.profileAnswer();
  });

  app.post("/admin/outage", async (request, reply) => {
    const parsed = outageBodySchema.safeParse(request.body);
    if (!parsed.success) {
      return sendProblem(
        reply,
        problem("validation_failed", { detail: parsed.error.issues[0]?.message ?? "" }),
      );
    }
    setOutage(gateway, parsed.data);
    return gateway.profileAnswer();
  });

  app.get("/admin/captures", async () => gateway.store.capturesReport());
  app.get("/admin/stats", async () => ({ gateway: gateway.profile.name, ...gateway.stats }));

  app.post("/admin/reversals", async (request, reply) => {
    const parsed = reversalBodySchema.safeParse(request.body);
    if (!parsed.success) {
      return sendProblem(
        reply,
        problem("validation_failed", { detail: parsed.error.issues[0]?.message ?? "" }),
      );
    }
    const record = gateway.store.byKey(parsed.data.idempotencyKey);
    if (record === undefined)
      return sendProblem(reply, problem("not_found", { detail: "no payment with this key" }));
    if (record.status !== "succeeded") {
      return sendProblem(
        reply,
        problem("conflict", { detail: `only a succeeded payment can be reversed, not ${record.status}` }),
      );
    }
    gateway.reverse(record, parsed.data.reason ?? "chargeback");
    return gateway.store.view(record);
  });
}

/** Down now, down for `forMs` from now, or up now (ending active windows; future windows stay). */
function setOutage(gateway: SimulatedGateway, change: { down: boolean; forMs?: number | undefined }): void {
  const { profile } = gateway;
  const now = gateway.uptimeMs();
  const { down, forMs } = change;
  if (down && forMs !== undefined) {
    gateway.setProfile({ ...profile, outages: [...profile.outages, { fromMs: now, toMs: now + forMs }] });
  } else if (down) {
    gateway.setProfile({ ...profile, down: true });
  } else {
    // Up now: clear the switch and cut short any window in progress; future windows stay.
    const outages = profile.outages.flatMap((w) =>
      now >= w.fromMs && now < w.toMs ? (now > w.fromMs ? [{ fromMs: w.fromMs, toMs: now }] : []) : [w],
    );
    gateway.setProfile({ ...profile, down: false, outages });
  }
}
