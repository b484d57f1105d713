/**
 * Sharing routes: a participant of a connection agrees to share it (PUT, idempotent), withdraws
 * (DELETE, until both agreed), reads both sides' agreement and the postings (GET), and once both
 * agreed gets the share card. The card is also public at /v1/community/shared/{id}/card once both
 * agreed (the URL the social postings carry: both consented to it being seen).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, principalOf, requireRole } from "../../platform/http/auth.ts";
import type { ProblemCode } from "../../platform/http/problems.ts";
import { refusalsAsProblems } from "../http.ts";
import { cardMediaType } from "./card.ts";
import type { Sharing } from "./service.ts";

export interface SharingRoutesDeps {
  readonly sharing: Sharing;
  readonly authenticate: PreHandler;
}

const posting = z.object({
  target: z.string().describe("The webhook's host (never its full URL)"),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  deliveredAtMs: z.number().int().nullable(),
});
const shareView = z.object({
  connectionId: z.uuid(),
  you: z.enum(["officer", "citizen"]),
  officerAgreed: z.boolean(),
  citizenAgreed: z.boolean(),
  shared: z.boolean(),
  sharedAtMs: z.number().int().nullable(),
  postings: z.array(posting).readonly(),
});

const params = z.object({ id: z.uuid() });

/** The card's success response in the document: an SVG image, not JSON. */
const cardResponse = {
  200: { description: "The share card", content: { [cardMediaType]: { schema: z.string() } } },
};

/** The card is user text in an image: no script runs and nothing is fetched, even opened directly. */
function sendCard(reply: FastifyReply, svg: string) {
  return reply
    .header("content-type", `${cardMediaType}; charset=utf-8`)
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
    .header("x-content-type-options", "nosniff")
    .header("cache-control", "private, max-age=60")
    .send(svg);
}

export async function sharingRoutes(root: FastifyInstance, deps: SharingRoutesDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const participant = [deps.authenticate, requireRole("officer", "citizen")];
  const access = { roles: ["officer", "citizen"] as const, owner: true };
  const shareRoute = (summary: string, problems: ProblemCode[]) => ({
    schema: {
      tags: ["community"],
      summary,
      params,
      security: [{ bearer: [] }],
      response: { 200: shareView },
    },
    config: {
      access,
      openapi: { success: { 200: "Both sides' agreement and, once shared, the postings" }, problems },
    },
    preHandler: participant,
  });
  const path = "/v1/community/connections/:id/share";
  app.get(
    path,
    shareRoute("Both sides' agreement to share this connection, and its postings", ["not_found"]),
    (request) => refusalsAsProblems(() => deps.sharing.view(principalOf(request).userId, request.params.id)),
  );
  app.put(
    path,
    shareRoute("Agree to share this connection (idempotent); once both agreed it is posted", ["not_found"]),
    (request) => refusalsAsProblems(() => deps.sharing.agree(principalOf(request).userId, request.params.id)),
  );
  app.delete(
    path,
    shareRoute("Withdraw your agreement (refused once both agreed)", ["not_found", "share_final"]),
    (request) =>
      refusalsAsProblems(() => deps.sharing.withdraw(principalOf(request).userId, request.params.id)),
  );
  cardRoutes(root, deps);
}

/** The card: to a participant once both agreed; to anyone at the public URL the postings carry. */
function cardRoutes(root: FastifyInstance, deps: SharingRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const access = { roles: ["officer", "citizen"] as const, owner: true };
  const participant = [deps.authenticate, requireRole("officer", "citizen")];
  app.get(
    "/v1/community/connections/:id/card",
    {
      schema: {
        tags: ["community"],
        summary: "The share card (SVG), once both agreed",
        params,
        response: cardResponse,
        security: [{ bearer: [] }],
      },
      config: {
        access,
        openapi: {
          problems: ["not_found", "share_not_agreed"],
        },
      },
      preHandler: participant,
    },
    async (request, reply) =>
      sendCard(
        reply,
        await refusalsAsProblems(() => deps.sharing.card(principalOf(request).userId, request.params.id)),
      ),
  );
  app.get(
    "/v1/community/shared/:id/card",
    {
      schema: {
        tags: ["community"],
        summary: "A shared connection's card (SVG), public once both agreed",
        params,
        response: cardResponse,
      },
      config: {
        access: { anonymous: true },
        openapi: { problems: ["not_found"] },
      },
    },
    async (request, reply) =>
      sendCard(reply, await refusalsAsProblems(() => deps.sharing.publicCard(request.params.id))),
  );
}
