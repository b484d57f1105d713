/**
 * The community REST routes: availability (officers), requests and answers (the same service as
 * the WebSocket, for clients that prefer HTTP), and the caller's connections and trophies.
 * Refusals are problem details whose code is the domain's (problems.ts).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, principalOf, requireRole } from "../platform/http/auth.ts";
import { type ProblemCode, ProblemError } from "../platform/http/problems.ts";
import type { CommunityMap } from "./map-settings.ts";
import { CommunityError, type CommunityService, connectionView } from "./service.ts";
import type { CommunityStore } from "./store.ts";

export interface CommunityHttpDeps {
  readonly service: CommunityService;
  readonly store: CommunityStore;
  readonly authenticate: PreHandler;
  readonly listLimitMax: number;
  /** The citizen screen's map tiles, or null (no map: the app shows a radar). */
  readonly map: CommunityMap | null;
}

const location = {
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracyM: z.number().min(0).max(100_000),
};

/** The service's refusals as problem details (their codes are registered in problems.ts). */
export async function refusalsAsProblems<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CommunityError)
      throw new ProblemError(error.code as ProblemCode, {
        detail: error.message,
        ...(error.field ? { field: error.field } : {}),
      });
    throw error;
  }
}

export async function communityRoutes(root: FastifyInstance, deps: CommunityHttpDeps): Promise<void> {
  availabilityRoutes(root, deps);
  requestRoutes(root, deps);
  readRoutes(root, deps);
  settingsRoute(root, deps);
}

function availabilityRoutes(root: FastifyInstance, deps: CommunityHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const officer = [deps.authenticate, requireRole("officer")];
  app.post(
    "/v1/community/availability",
    {
      schema: {
        tags: ["community"],
        summary: "An officer goes available for a window (15 minutes by default) at this position",
        body: z.strictObject({ ...location, windowMs: z.number().int().positive().optional() }),
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: ["officer"] },
        openapi: {
          problems: ["invalid_location", "invalid_window", "location_too_vague", "impossible_jump"],
        },
      },
      preHandler: officer,
    },
    (request) => refusalsAsProblems(() => deps.service.goAvailable(principalOf(request), request.body)),
  );
  app.delete(
    "/v1/community/availability",
    {
      schema: {
        tags: ["community"],
        summary: "An officer stops being available",
        security: [{ bearer: [] }],
      },
      config: { access: { roles: ["officer"] } },
      preHandler: officer,
    },
    (request) => refusalsAsProblems(() => deps.service.stop(principalOf(request))),
  );
}

function requestRoutes(root: FastifyInstance, deps: CommunityHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.post(
    "/v1/community/requests",
    {
      schema: {
        tags: ["community"],
        summary: "A citizen requests a connection with an available officer (near, or virtual)",
        body: z.strictObject({ officerId: z.uuid(), virtual: z.boolean().optional() }),
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: ["citizen"] },
        openapi: {
          success: { 201: "Requested: the officer is notified" },
          problems: [
            ...["own_request", "officer_unavailable", "virtual_not_allowed", "location_required", "not_near"],
            ...["request_pending", "too_many_requests", "pair_rewarded_recently"],
          ] as ProblemCode[],
        },
      },
      preHandler: [deps.authenticate, requireRole("citizen")],
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await refusalsAsProblems(() => deps.service.request(principalOf(request), request.body))),
  );
  for (const action of ["accept", "decline"] as const)
    app.post(
      `/v1/community/requests/:id/${action}`,
      {
        schema: {
          tags: ["community"],
          summary:
            action === "accept"
              ? "The officer accepts: the connection is established and both earn points (a replay answers the same)"
              : "The officer declines",
          params: z.object({ id: z.uuid() }),
          security: [{ bearer: [] }],
        },
        config: {
          access: { roles: ["officer"] },
          openapi: {
            problems: [
              "request_not_found",
              "own_request",
              "request_expired",
              "request_not_pending",
              "pair_rewarded_recently",
            ],
          },
        },
        preHandler: [deps.authenticate, requireRole("officer")],
      },
      (request) =>
        refusalsAsProblems(() =>
          deps.service.answer(principalOf(request), { requestId: request.params.id, action }),
        ),
    );
}

function readRoutes(root: FastifyInstance, deps: CommunityHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const participant = [deps.authenticate, requireRole("officer", "citizen")];
  app.get(
    "/v1/community/connections",
    {
      schema: {
        tags: ["community"],
        summary: "The caller's connections, newest first",
        querystring: z.object({
          limit: z.coerce.number().int().positive().max(deps.listLimitMax).optional(),
        }),
        security: [{ bearer: [] }],
      },
      config: { access: { roles: ["officer", "citizen"], owner: true } },
      preHandler: participant,
    },
    async (request) => {
      const limit = request.query.limit ?? deps.listLimitMax;
      const items = await deps.store.connectionsOf(principalOf(request).userId, limit);
      return { items: items.map(connectionView) };
    },
  );
  app.get(
    "/v1/community/trophies",
    {
      schema: { tags: ["community"], summary: "The caller's trophies", security: [{ bearer: [] }] },
      config: { access: { roles: ["officer", "citizen"], owner: true } },
      preHandler: participant,
    },
    async (request) => ({ items: await deps.store.trophiesOf(principalOf(request).userId) }),
  );
}

const settingsResponse = z.object({
  map: z
    .object({
      tileUrl: z.string().describe("Tile URL template with {z}, {x} and {y}"),
      attribution: z.string().describe("Plain text the map must show (the tile provider's terms)"),
    })
    .nullable()
    .describe("The citizen screen's map; null: no tiles are configured (the app shows a radar)"),
});

/** What the app needs to know about the programme's set-up (today: whether there is a map). */
function settingsRoute(root: FastifyInstance, deps: CommunityHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    "/v1/community/settings",
    {
      schema: {
        tags: ["community"],
        summary: "The community screens' settings: the map's tile server and attribution, or null",
        security: [{ bearer: [] }],
        response: { 200: settingsResponse },
      },
      config: { access: { roles: ["officer", "citizen"] } },
      preHandler: [deps.authenticate, requireRole("officer", "citizen")],
    },
    async () => ({ map: deps.map }),
  );
}
