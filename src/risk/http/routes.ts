/**
 * The risk context's REST routes, read by admins, compliance (who decide the reviews screening opens)
 * and auditors: lists in force with their last load, the screening log.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, requireRole } from "../../platform/http/auth.ts";
import type { ListStore } from "../lists.ts";
import type { ScreeningIndex } from "../screening-index.ts";
import type { ScreeningLog } from "../screenings.ts";

export interface RiskHttpDeps {
  readonly authenticate: PreHandler;
  readonly lists: ListStore;
  readonly log: ScreeningLog;
  /** This process's index, when it screens (handler processes); its versions are shown as in force here. */
  readonly index: ScreeningIndex | undefined;
}

const screeningsPageMax = 500;

export async function riskRoutes(root: FastifyInstance, deps: RiskHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const readers = ["admin", "compliance", "auditor"] as const;
  const riskReaders = {
    config: { access: { roles: readers } },
    preHandler: [deps.authenticate, requireRole(...readers)],
  };

  app.get(
    "/v1/risk/lists",
    {
      schema: {
        tags: ["risk"],
        summary: "Screening lists: latest version, counts, last load (admin, compliance, auditor)",
        security: [{ bearer: [] }],
      },
      ...riskReaders,
    },
    async () => {
      const screening = deps.index?.versions();
      const lists = (await deps.lists.versions()).map((version) => ({
        ...version,
        loadedAt: new Date(version.loadedAtMs).toISOString(),
        ...(screening ? { screeningVersion: screening.get(version.list) ?? 0 } : {}),
      }));
      return { lists };
    },
  );

  app.get(
    "/v1/risk/screenings",
    {
      schema: {
        tags: ["risk"],
        summary:
          "The screening log, newest first: who, what, which list entry and version (admin, compliance, auditor)",
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(screeningsPageMax).default(100),
        }),
        security: [{ bearer: [] }],
      },
      ...riskReaders,
    },
    async (request) => {
      const records = await deps.log.latest(request.query.limit);
      return {
        screenings: records.map(({ decidedAtMs, amount, ...record }) => ({
          ...record,
          amount: amount.toString(),
          decidedAt: new Date(decidedAtMs).toISOString(),
        })),
      };
    },
  );
}
