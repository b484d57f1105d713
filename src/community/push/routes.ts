/**
 * Web Push subscription routes: the app reads the VAPID public key, subscribes with the browser's
 * PushManager and registers the subscription here; it removes it when the user turns push off, and
 * can list the endpoints registered for the caller (which browsers will be woken).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "../../platform/clock.ts";
import { type PreHandler, principalOf, requireRole } from "../../platform/http/auth.ts";
import { type ProblemCode, ProblemError } from "../../platform/http/problems.ts";
import type { PushSubscriptions } from "./subscriptions.ts";

export interface PushRoutesDeps {
  readonly authenticate: PreHandler;
  readonly subscriptions: PushSubscriptions;
  /** The VAPID public key, or undefined when Web Push is off. */
  readonly publicKey: string | undefined;
  readonly subscriptionsPerUserMax: number;
  readonly clock: Clock;
}

const base64url = (lengthMax: number) =>
  z
    .string()
    .min(1)
    .max(lengthMax)
    .regex(/^[A-Za-z0-9_-]+$/);
const endpoint = z
  .string()
  .max(2_048)
  .regex(/^https:\/\/[^\s]+$/)
  .describe("The push service's URL for this browser (https)");
const subscriptionBody = z.strictObject({
  endpoint,
  keys: z.strictObject({ p256dh: base64url(128), auth: base64url(64) }),
});

function pushOff(): ProblemError {
  return new ProblemError("not_found", { detail: "Web Push is not configured on this server" });
}

const access = {
  access: { roles: ["officer", "citizen"] as const },
  openapi: { problems: ["not_found"] as ProblemCode[] },
};

export async function pushRoutes(root: FastifyInstance, deps: PushRoutesDeps): Promise<void> {
  readRoutes(root, deps);
  writeRoutes(root, deps);
}

/** The VAPID key (what the app subscribes with) and the caller's registered endpoints. */
function readRoutes(root: FastifyInstance, deps: PushRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const participant = [deps.authenticate, requireRole("officer", "citizen")];
  app.get(
    "/v1/community/push/public-key",
    {
      schema: {
        tags: ["community"],
        summary: "The VAPID public key to subscribe with (null when Web Push is off on this server)",
        security: [{ bearer: [] }],
        response: { 200: z.object({ publicKey: z.string().nullable() }) },
      },
      config: { access: access.access },
      preHandler: participant,
    },
    // Off is an answer, not an error: the app asks on every visit to decide whether to offer push.
    async () => ({ publicKey: deps.publicKey ?? null }),
  );
  app.get(
    "/v1/community/push/subscriptions",
    {
      schema: {
        tags: ["community"],
        summary: "The caller's registered push subscriptions (their endpoints: one per browser)",
        security: [{ bearer: [] }],
        response: { 200: z.object({ items: z.array(z.object({ endpoint: z.string() })) }) },
      },
      config: { ...access, access: { ...access.access, owner: true } },
      preHandler: participant,
    },
    async (request) => {
      if (deps.publicKey === undefined) throw pushOff();
      const mine = await deps.subscriptions.of(principalOf(request).userId);
      return { items: mine.map(({ endpoint }) => ({ endpoint })) };
    },
  );
}

/** Registering this browser's subscription and removing it. */
function writeRoutes(root: FastifyInstance, deps: PushRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const participant = [deps.authenticate, requireRole("officer", "citizen")];
  app.put(
    "/v1/community/push/subscriptions",
    {
      schema: {
        tags: ["community"],
        summary: "Register this browser's push subscription (PushSubscription.toJSON())",
        body: subscriptionBody,
        security: [{ bearer: [] }],
      },
      config: { ...access, openapi: { ...access.openapi, success: { 204: "Registered" } } },
      preHandler: participant,
    },
    async (request, reply) => {
      if (deps.publicKey === undefined) throw pushOff();
      const { userId } = principalOf(request);
      await deps.subscriptions.save(userId, request.body, deps.clock.nowMs(), deps.subscriptionsPerUserMax);
      return reply.code(204).send();
    },
  );
  app.delete(
    "/v1/community/push/subscriptions",
    {
      schema: {
        tags: ["community"],
        summary: "Remove this browser's push subscription",
        body: z.strictObject({ endpoint }),
        security: [{ bearer: [] }],
      },
      config: { ...access, openapi: { ...access.openapi, success: { 204: "Removed" } } },
      preHandler: participant,
    },
    async (request, reply) => {
      const removed = await deps.subscriptions.remove(principalOf(request).userId, request.body.endpoint);
      if (!removed) throw new ProblemError("not_found", { detail: "No such subscription of yours" });
      return reply.code(204).send();
    },
  );
}
