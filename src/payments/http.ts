/**
 * Payments HTTP API: deposits and withdrawals through external gateways, payment status with every
 * attempt (explainable routing), signed gateway callbacks, the gateway back-office, /metrics.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  amountInput,
  amountOrFail,
  assetCode,
  fingerprintOf,
  ibanInput,
  ibanOrFail,
} from "../ledger/index.ts";
import {
  isStaff,
  mayReadAnyAccount,
  preferredWaitMs,
  principalOf,
  type Role,
  requireRole,
  roles,
} from "../platform/http/auth.ts";
import { ProblemError, rejectionProblem } from "../platform/http/problems.ts";
import { createEventDeduplicator, verifyCallbackSignature } from "./callback-signature.ts";
import type { PaymentDirection, PaymentState } from "./domain/types.ts";
import { paymentTokenId } from "./ledger-port.ts";
import { paymentListRoute } from "./list.ts";
import { gatewayInput, gatewayPatchInput, gatewayView } from "./registry.ts";
import type { PaymentsEdgeDeps, RunningPayments } from "./running.ts";

/**
 * Who may pay in and out: everyone but the staff who change nothing (auditors read, compliance
 * decides reviews). The handler narrows to the caller's own accounts (tellers and admins: any).
 */
const payerRoles: readonly Role[] = roles.filter((role) => role !== "auditor" && role !== "compliance");

const paymentBody = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the idempotency key"),
  iban: ibanInput,
  amount: amountInput,
  asset: assetCode,
  region: z
    .string()
    .regex(/^[A-Z]{2,8}$/)
    .optional()
    .describe("Region the payment must be processed in, e.g. EU"),
  method: z
    .string()
    .regex(/^[a-z0-9_]{1,32}$/)
    .optional()
    .describe("Payment method, e.g. card, sepa_instant, ewallet, bank_transfer"),
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function paymentView(payment: PaymentState) {
  return {
    id: payment.id,
    type: payment.direction,
    status: payment.status,
    stage: payment.stage,
    iban: payment.iban,
    amount: payment.amount.toString(),
    asset: payment.asset,
    ...(payment.region === undefined ? {} : { region: payment.region }),
    ...(payment.method === undefined ? {} : { method: payment.method }),
    ...(payment.reason === undefined ? {} : { reason: payment.reason }),
    ...(payment.gateway === undefined ? {} : { gateway: payment.gateway }),
    ...(payment.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: payment.gatewayPaymentId }),
    ...(payment.status === "SUCCESS" || payment.status === "REVERSED"
      ? { tokenId: paymentTokenId(payment.id) }
      : {}),
    attempts: payment.attempts.map((a) => ({
      no: a.no,
      gateway: a.gateway,
      startedAt: iso(a.startedAtMs),
      ...(a.finishedAtMs === undefined ? {} : { finishedAt: iso(a.finishedAtMs) }),
      outcome: a.outcome ?? "in_flight",
      ...(a.latencyMs === undefined ? {} : { latencyMs: a.latencyMs }),
      why: a.why,
      skipped: a.skipped,
      ...(a.detail === undefined ? {} : { detail: a.detail }),
    })),
    createdAt: iso(payment.createdAtMs),
    updatedAt: iso(payment.updatedAtMs),
  };
}

export interface PaymentRoutesDeps {
  readonly services: PaymentsEdgeDeps;
  readonly payments: RunningPayments;
}

/** Callback signatures older than this are replays. */
const callbackToleranceMs = 5 * 60_000;

export async function paymentRoutes(root: FastifyInstance, deps: PaymentRoutesDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { payments } = deps;
  const http = deps.services.ledgerHttp;
  createPaymentRoutes(root, deps);
  paymentByIdRoute(root, deps);
  await app.register(async (scope) =>
    paymentListRoute(scope, { pool: deps.services.pool, http, view: paymentView }),
  );
  await app.register(async (scope) => callbackRoute(scope, deps));
  await app.register(async (scope) => adminRoutes(scope, deps));

  if (!root.hasRoute({ method: "GET", url: "/metrics" })) {
    app.get("/metrics", { schema: { hide: true }, ...adminOnly(deps) }, async (_request, res) =>
      res.type(payments.metrics.registry.contentType).send(await payments.metrics.registry.metrics()),
    );
  }
}

/** POST /v1/deposits and /v1/withdrawals. */
function createPaymentRoutes(root: FastifyInstance, deps: PaymentRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const http = deps.services.ledgerHttp;
  for (const direction of ["deposit", "withdrawal"] as const) {
    app.post(
      `/v1/${direction}s`,
      {
        schema: {
          tags: ["payments"],
          summary:
            direction === "deposit"
              ? "Pay in through an external gateway; the account is credited when the gateway captured the money"
              : "Pay out through an external gateway; the funds are reserved at once, posted on success, released on failure",
          body: paymentBody,
          security: [{ bearer: [] }],
        },
        config: {
          access: { roles: payerRoles, owner: true },
          openapi: {
            success: { 200: "Finished: SUCCESS or FAILED", 202: "Under way" },
            // 422 asset_mismatch: the account holds another asset.
            problems: ["not_found", "conflict", "command_failed"],
            links: {
              200: {
                payment: { operation: "GET /v1/payments/:id", parameters: { id: "$response.body#/id" } },
              },
              // 202 is not linked: the processor may not have stored the payment yet.
            },
          },
        },
        preHandler: [http.authenticate, requireRole(...payerRoles)],
      },
      async (request, res) => {
        const answer = await createPayment(deps, direction, request, request.body);
        if ("problem" in answer)
          return res.code(answer.status).type("application/problem+json").send(answer.problem);
        return res.code(answer.status).send(answer.body);
      },
    );
  }
}

function paymentByIdRoute(root: FastifyInstance, deps: PaymentRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { payments } = deps;
  const http = deps.services.ledgerHttp;
  app.get(
    "/v1/payments/:id",
    {
      schema: {
        tags: ["payments"],
        summary:
          "A payment's status and every gateway attempt: which, when, outcome, latency, why chosen or skipped",
        params: z.object({ id: z.uuid() }),
        security: [{ bearer: [] }],
      },
      // The caller's own; tellers', admins' and auditors' any (others' are 404).
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
      preHandler: [http.authenticate],
    },
    async (request) => {
      const principal = principalOf(request);
      const payment = await payments.store.get(request.params.id);
      if (!payment || (payment.ownerId !== principal.userId && !mayReadAnyAccount(principal)))
        throw new ProblemError("not_found", { detail: "No such payment" });
      return paymentView(payment);
    },
  );
}

/** Opens a deposit or withdrawal, or answers the one already opened under this id. */
async function createPayment(
  deps: PaymentRoutesDeps,
  direction: PaymentDirection,
  request: FastifyRequest,
  body: z.infer<typeof paymentBody>,
): Promise<{ status: number; body: unknown } | { status: number; problem: unknown }> {
  const { payments } = deps;
  const http = deps.services.ledgerHttp;
  const principal = principalOf(request);
  const { id, asset, region, method } = body;
  const iban = ibanOrFail(body.iban, "iban");
  const amount = amountOrFail(body.amount, "amount");
  const account = await http.queries.accountByIban(iban);
  if (!account || (account.ownerId !== principal.userId && !isStaff(principal)))
    throw new ProblemError("not_found", { field: "iban", detail: "No such account" });
  const fingerprint = fingerprintOf({ type: "Payment", direction, iban, amount, asset, region, method });
  const existing = await payments.store.get(id);
  if (existing) {
    if (existing.fingerprint !== fingerprint)
      throw new ProblemError("conflict", { detail: `Id ${id} was already used for a different request` });
    return paymentReply(existing);
  }
  if (account.asset !== asset)
    return {
      status: 422,
      problem: rejectionProblem("asset_mismatch", {
        detail: `The account holds ${account.asset}`,
        field: "asset",
      }),
    };
  await payments.submit({
    type: "RequestPayment",
    paymentId: id,
    direction,
    ownerId: account.ownerId,
    iban,
    amount,
    asset,
    ...(region === undefined ? {} : { region }),
    ...(method === undefined ? {} : { method }),
    fingerprint,
  });
  const waitMs = preferredWaitMs(request, http.waitMsMax);
  const state = await payments.waitForFinal(id, waitMs);
  if (state) return paymentReply(state);
  return {
    status: 202,
    body: {
      id,
      type: direction,
      status: "PENDING",
      stage: "requested",
      iban,
      amount: amount.toString(),
      asset,
      attempts: [],
    },
  };
}

function paymentReply(payment: PaymentState) {
  return { status: payment.stage === "done" ? 200 : 202, body: paymentView(payment) };
}

/** Gateway callbacks: the raw body is kept, since the signature covers the exact bytes. */
async function callbackRoute(
  scope: FastifyInstance,
  { services, payments }: PaymentRoutesDeps,
): Promise<void> {
  const dedupe = createEventDeduplicator({ clock: services.clock, retentionMs: callbackToleranceMs * 2 });
  scope.removeContentTypeParser("application/json");
  scope.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    (request as FastifyRequest & { rawBody?: string }).rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ProblemError("validation_failed", { detail: "The body is not valid JSON" }), undefined);
    }
  });
  scope.post("/v1/payments/callbacks", { schema: { hide: true } }, async (request, res) => {
    const raw = (request as FastifyRequest & { rawBody?: string }).rawBody ?? "";
    const header = request.headers["x-signature"];
    const signature = Array.isArray(header) ? header[0] : header;
    const now = services.clock.nowMs();
    // The gateway is whichever registered one signed it.
    const gateway = payments.registry
      .list()
      .find((g) => verifyCallbackSignature(g.callbackSecret, signature, raw, now, callbackToleranceMs).ok);
    if (!gateway) throw new ProblemError("unauthenticated", { detail: "Bad or missing callback signature" });
    const body = request.body as {
      eventId?: string;
      type?: string;
      paymentId?: string;
      status?: string;
      reason?: string;
      gatewayPaymentId?: string;
    };
    if (
      typeof body.eventId !== "string" ||
      typeof body.paymentId !== "string" ||
      !z.uuid().safeParse(body.paymentId).success
    )
      throw new ProblemError("validation_failed", { detail: "eventId and paymentId are required" });
    if (!dedupe.firstSeen(`${gateway.name}:${body.eventId}`)) return res.code(200).send({ duplicate: true });
    if (body.type === "payment.reversed") {
      await payments.submit({
        type: "ReversePayment",
        paymentId: body.paymentId,
        gateway: gateway.name,
        reason: body.reason ?? "reversed",
      });
    } else if (body.status === "succeeded" || body.status === "failed") {
      await payments.submit({
        type: "RecordGatewayResult",
        paymentId: body.paymentId,
        gateway: gateway.name,
        result: body.status,
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: body.gatewayPaymentId }),
      });
    }
    return res.code(200).send({ received: true });
  });
}

async function adminRoutes(scope: FastifyInstance, deps: PaymentRoutesDeps): Promise<void> {
  gatewayReadRoutes(scope, deps);
  gatewayWriteRoutes(scope, deps);
}

const nameParams = z.object({ name: z.string().min(1).max(63) });

/** Gateways are the bank's operations, with their endpoints and settings: admins only. */
const adminAccess = { roles: ["admin"] } as const;

function adminOnly(deps: PaymentRoutesDeps) {
  return { preHandler: [deps.services.ledgerHttp.authenticate, requireRole("admin")] };
}

/** A registry failure from zod (a bad gateway definition) is a 400 naming the field. */
async function parseOrFail<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof z.ZodError) {
      const issue = error.issues[0];
      throw new ProblemError("validation_failed", {
        field: issue?.path.join("/") ?? "",
        detail: issue?.message ?? "invalid gateway",
      });
    }
    throw error;
  }
}

/** GET /v1/admin/gateways and /v1/admin/gateways/:name, with breaker state and health. */
function gatewayReadRoutes(scope: FastifyInstance, deps: PaymentRoutesDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { payments } = deps;
  const admin = adminOnly(deps);
  const conditions = () => new Map(payments.orchestrator.conditions().map((c) => [c.name, c]));
  const withCondition = (
    view: ReturnType<typeof gatewayView>,
    condition: ReturnType<typeof conditions> extends Map<string, infer C> ? C | undefined : never,
  ) => ({
    ...view,
    ...(condition ? { breaker: condition.breaker, health: condition.health } : {}),
  });

  app.get(
    "/v1/admin/gateways",
    {
      schema: {
        tags: ["admin"],
        summary: "Registered gateways with breaker state and health",
        security: [{ bearer: [] }],
      },
      config: { access: adminAccess },
      ...admin,
    },
    async () => {
      const c = conditions();
      return {
        gateways: payments.registry.stored().map((g) => withCondition(gatewayView(g), c.get(g.name))),
      };
    },
  );
  app.get(
    "/v1/admin/gateways/:name",
    {
      schema: { tags: ["admin"], summary: "One gateway", params: nameParams, security: [{ bearer: [] }] },
      config: { access: adminAccess, openapi: { problems: ["not_found"] } },
      ...admin,
    },
    async (request) => {
      const stored = payments.registry.stored().find((g) => g.name === request.params.name);
      if (!stored) throw new ProblemError("not_found", { detail: "No such gateway" });
      return withCondition(gatewayView(stored), conditions().get(stored.name));
    },
  );
}

/** POST, PATCH and DELETE of gateways (every instance learns them through payments.gateways). */
function gatewayWriteRoutes(scope: FastifyInstance, deps: PaymentRoutesDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { payments, services } = deps;
  const admin = adminOnly(deps);
  addGatewayRoute(scope, deps);
  app.patch(
    "/v1/admin/gateways/:name",
    {
      schema: {
        tags: ["admin"],
        summary: "Change a gateway: enable, disable, re-weight, limits…",
        params: nameParams,
        body: gatewayPatchInput,
        security: [{ bearer: [] }],
      },
      config: { access: adminAccess, openapi: { problems: ["not_found"] } },
      ...admin,
    },
    async (request) => {
      const updated = await parseOrFail(() =>
        payments.registry.update(request.params.name, request.body, services.clock.nowMs()),
      );
      if (!updated) throw new ProblemError("not_found", { detail: "No such gateway" });
      return gatewayView(updated);
    },
  );
  app.delete(
    "/v1/admin/gateways/:name",
    {
      schema: {
        tags: ["admin"],
        summary: "Remove a gateway",
        params: nameParams,
        security: [{ bearer: [] }],
      },
      config: { access: adminAccess, openapi: { success: { 204: "Removed" }, problems: ["not_found"] } },
      ...admin,
    },
    async (request, res) => {
      if (!(await payments.registry.remove(request.params.name, services.clock.nowMs())))
        throw new ProblemError("not_found", { detail: "No such gateway" });
      return res.code(204).send();
    },
  );
}

/** POST /v1/admin/gateways. */
function addGatewayRoute(scope: FastifyInstance, deps: PaymentRoutesDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { payments, services } = deps;
  const admin = adminOnly(deps);
  app.post(
    "/v1/admin/gateways",
    {
      schema: {
        tags: ["admin"],
        summary: "Register a gateway (every instance learns it through payments.gateways)",
        body: gatewayInput,
        security: [{ bearer: [] }],
      },
      config: {
        access: adminAccess,
        openapi: {
          success: { 201: "Registered" },
          problems: ["conflict"],
          links: {
            201: {
              gateway: {
                operation: "GET /v1/admin/gateways/:name",
                parameters: { name: "$response.body#/name" },
              },
              change: {
                operation: "PATCH /v1/admin/gateways/:name",
                parameters: { name: "$response.body#/name" },
              },
              remove: {
                operation: "DELETE /v1/admin/gateways/:name",
                parameters: { name: "$response.body#/name" },
              },
            },
          },
        },
      },
      ...admin,
    },
    async (request, res) => {
      const result = await parseOrFail(() => payments.registry.add(request.body, services.clock.nowMs()));
      if (!result.ok) throw new ProblemError("conflict", { detail: "A gateway with this name exists" });
      return res.code(201).send(gatewayView(result.gateway));
    },
  );
}
