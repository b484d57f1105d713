/** The inbox over REST: each user reads and marks only their own notifications. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, principalOf } from "../platform/http/auth.ts";
import { notificationKinds } from "./domain/entries.ts";
import type { InboxStore, StoredNotification } from "./store.ts";

export interface InboxHttpDeps {
  readonly store: InboxStore;
  readonly authenticate: PreHandler;
  readonly pageSizeMax: number;
  readonly markReadIdsMax: number;
}

const cursorInput = z
  .string()
  .regex(/^[0-9]{1,18}$/)
  .describe("A notification's cursor (from a page's items or nextCursor)");

export const notificationView = z.object({
  id: z.uuid(),
  cursor: z.string().describe("Position in the inbox; larger is newer"),
  kind: z.enum(notificationKinds),
  iban: z.string().describe("The user's account"),
  counterparty: z.string().describe('The other account, or "" for the bank\'s own (cash, gateways)'),
  amount: z.string().describe("Minor units"),
  asset: z.string(),
  description: z.string(),
  transferId: z.uuid().describe("The movement (a hold's id for hold notifications)"),
  commandId: z
    .uuid()
    .describe("The command that made it; a receipt's id for sent/received/deposit/withdrawal"),
  at: z.string(),
  read: z.boolean(),
});

export function viewOf(entry: Omit<StoredNotification, "cursor"> & { cursor?: string }) {
  return {
    id: entry.id,
    cursor: entry.cursor ?? "",
    kind: entry.kind,
    iban: entry.iban,
    counterparty: entry.counterparty,
    amount: entry.amount.toString(),
    asset: entry.asset,
    description: entry.description,
    transferId: entry.transferId,
    commandId: entry.commandId,
    at: new Date(entry.atMs).toISOString(),
    read: entry.read,
  };
}

export async function inboxRoutes(root: FastifyInstance, deps: InboxHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { store } = deps;

  app.get(
    "/v1/notifications",
    {
      schema: {
        tags: ["notifications"],
        summary: "My notifications, newest first, with the unread count",
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(deps.pageSizeMax).default(50),
          before: cursorInput.optional().describe("A previous page's nextCursor: older entries"),
        }),
        response: {
          200: z.object({
            items: z.array(notificationView),
            nextCursor: z.string().nullable().describe("Pass as `before` for older entries; null at the end"),
            unread: z.int(),
          }),
        },
        security: [{ bearer: [] }],
      },
      // Each caller's own notifications only.
      config: { access: { roles: "any", owner: true } },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const { userId } = principalOf(request);
      const { limit, before } = request.query;
      const [page, unread] = await Promise.all([
        store.page(userId, before, limit + 1),
        store.unreadCount(userId),
      ]);
      const items = page.slice(0, limit);
      const nextCursor = page.length > limit ? (items.at(-1)?.cursor ?? null) : null;
      return { items: items.map(viewOf), nextCursor, unread };
    },
  );

  app.get(
    "/v1/notifications/unread",
    {
      schema: {
        tags: ["notifications"],
        summary: "How many of my notifications are unread",
        response: { 200: z.object({ unread: z.int() }) },
        security: [{ bearer: [] }],
      },
      // Each caller's own notifications only.
      config: { access: { roles: "any", owner: true } },
      preHandler: deps.authenticate,
    },
    async (request) => ({ unread: await store.unreadCount(principalOf(request).userId) }),
  );
  markReadRoute(app, deps);
}

function markReadRoute(root: FastifyInstance, deps: InboxHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { store } = deps;
  app.post(
    "/v1/notifications/read",
    {
      schema: {
        tags: ["notifications"],
        summary: "Mark my notifications read: these ids and/or everything up to a cursor; neither: all",
        description:
          "`ids`, `upTo`, or both (either matches); an empty body marks every entry read. Ids that are not mine are ignored.",
        body: z.strictObject({
          ids: z.array(z.uuid()).min(1).max(deps.markReadIdsMax).optional().describe("These entries"),
          upTo: cursorInput.optional().describe("Every entry up to and including this cursor"),
        }),
        response: { 200: z.object({ marked: z.int(), unread: z.int() }) },
        security: [{ bearer: [] }],
      },
      // Each caller's own notifications only.
      config: { access: { roles: "any", owner: true } },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const { userId } = principalOf(request);
      const { ids, upTo } = request.body;
      const marked = await store.markRead(userId, {
        ...(ids === undefined ? {} : { ids }),
        ...(upTo === undefined ? {} : { upToCursor: upTo }),
      });
      return { marked, unread: await store.unreadCount(userId) };
    },
  );
}
