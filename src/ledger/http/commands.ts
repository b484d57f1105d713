import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../../platform/http/auth.ts";
import { type LedgerHttpDeps, principalOf } from "./common.ts";

export async function commandRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    "/v1/commands/:id",
    {
      schema: {
        tags: ["commands"],
        summary: "Status of a command: PENDING, CONFIRMED or FAILED with a reason",
        params: z.strictObject({ id: z.uuid() }),
        security: [{ bearer: [] }],
      },
      // The caller's own commands; tellers' and admins' any.
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
      preHandler: deps.authenticate,
    },
    async (request) => deps.commands.commandStatus(principalOf(request), request.params.id),
  );

  app.get(
    "/v1/admin/stats",
    {
      schema: {
        tags: ["admin"],
        summary: "Per-second throughput, latency percentiles and outcomes by reason (admin)",
        security: [{ bearer: [] }],
      },
      config: { access: { roles: ["admin"] } },
      preHandler: [deps.authenticate, requireRole("admin")],
    },
    async () => ({ windowSeconds: deps.liveStats.windowSeconds, series: deps.liveStats.series() }),
  );

  app.get(
    "/v1/transactions/latest",
    {
      schema: {
        tags: ["admin"],
        summary: "Latest transfers across the bank (admin, auditor)",
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        security: [{ bearer: [] }],
      },
      // Auditors read every transfer; they change nothing.
      config: { access: { roles: ["admin", "auditor"] } },
      preHandler: [deps.authenticate, requireRole("admin", "auditor")],
    },
    async (request) => {
      const transfers = await deps.queries.latestTransfers(request.query.limit);
      return {
        items: transfers.map((t) => ({
          id: t.id,
          kind: t.kind,
          phase: t.phase,
          from: t.from,
          to: t.to,
          amount: t.amount.toString(),
          asset: t.asset,
          description: t.description,
          at: new Date(t.atMs).toISOString(),
        })),
      };
    },
  );
}
