/** `/v1/me/profile` (the owner) and `/v1/admin/users` (admins: list, officer verification). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, principalOf, requireRole } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { boundedText, freeText, noNulMessage, noNulPattern } from "../../platform/http/text.ts";
import type { Profiles, ProfileView } from "./profiles.ts";

export interface ProfileRoutesOptions {
  readonly profiles: Profiles;
  readonly authenticate: PreHandler;
}

const bodyBytesMax = 8 * 1024;
/** US ZIP or ZIP+4 (the seed's community programme is organised by zip code). */
const zipPattern = /^[0-9]{5}(-[0-9]{4})?$/;
/** Fields an owner can never set on their own profile: roles and verification are an admin's. */
const adminOnlyFields = ["roles", "verified", "officerVerified"] as const;

const officerView = z
  .object({ agency: z.string(), badgeNumber: z.string(), verified: z.boolean() })
  .nullable();
const communityView = z
  .object({
    connectionsCount: z
      .number()
      .int()
      .min(0)
      .describe("Established connections (Hey Blue!) the user took part in"),
    pointsEarned: z
      .string()
      .regex(/^[0-9]+$/)
      .describe("PTS minor units earned by rewarded connections, as a decimal string"),
    trophies: z
      .array(z.object({ code: z.string(), firstAwardedAt: z.iso.datetime() }))
      .describe("Trophy codes, earliest first, each with when it was first awarded"),
    lastConnectionAt: z.iso.datetime().nullable(),
  })
  .describe("From the community context's events, through the log: may lag them by a moment");
const profileView = z.object({
  userId: z.uuid(),
  displayName: z.string(),
  avatarUrl: z.string().nullable(),
  zipCode: z.string().nullable(),
  email: z.string().nullable(),
  legalName: z.string().nullable().describe("Used for sanctions screening; stored encrypted"),
  officer: officerView,
  updatedAt: z.iso.datetime(),
  community: communityView,
});

const profileEdit = z.strictObject({
  displayName: freeText(1, 64).optional(),
  // A pattern the document states and the server holds to alike (a URL parser and JSON Schema's
  // `uri` format disagree on edges): https, a host, an optional port and path.
  avatarUrl: z
    .string()
    .max(512)
    .regex(/^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[^\s]*)?$/, "an https URL")
    .nullable()
    .optional()
    .describe("An https URL"),
  zipCode: z.string().regex(zipPattern, "a US ZIP code: 12345 or 12345-6789").nullable().optional(),
  // A plain shape, not JSON Schema's `email` format: validators disagree on that format's edges, and
  // the address is only stored (encrypted), never sent to.
  email: z
    .string()
    .max(254)
    .regex(/^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/, "an email address")
    .nullable()
    .optional(),
  legalName: freeText(1, 128).nullable().optional(),
  officer: z
    .strictObject({
      agency: freeText(2, 128),
      badgeNumber: z.string().regex(/^[A-Za-z0-9-]{1,32}$/),
    })
    .nullable()
    .optional()
    .describe("Officers: agency or precinct and badge; changing it clears the verification"),
});

const userListing = z.object({
  id: z.uuid(),
  username: z.string(),
  roles: z.array(z.string()),
  displayName: z.string().nullable(),
  officer: z.object({ agency: z.string(), verified: z.boolean() }).nullable(),
});

const iso = (ms: number) => new Date(ms).toISOString();

function answer(view: ProfileView) {
  const { updatedAtMs, community, ...rest } = view;
  return {
    ...rest,
    updatedAt: iso(updatedAtMs),
    community: {
      connectionsCount: community.connectionsCount,
      pointsEarned: community.pointsEarned.toString(),
      trophies: community.trophies.map((t) => ({ code: t.code, firstAwardedAt: iso(t.firstAwardedAtMs) })),
      lastConnectionAt: community.lastConnectionAtMs === undefined ? null : iso(community.lastConnectionAtMs),
    },
  };
}

export async function profileRoutes(app: FastifyInstance, options: ProfileRoutesOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  ownProfileRoutes(app, options);
  adminUserRoutes(app, options);
}

function ownProfileRoutes(app: FastifyInstance, { profiles, authenticate }: ProfileRoutesOptions): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/me/profile",
    {
      preHandler: authenticate,
      schema: { tags: ["identity"], summary: "My profile", response: { 200: profileView } },
      config: { access: { roles: "any", owner: true } },
    },
    async (request) => {
      const principal = principalOf(request);
      return answer(await profiles.ensure({ id: principal.userId, username: principal.username }));
    },
  );
  routes.patch(
    "/v1/me/profile",
    {
      bodyLimit: bodyBytesMax,
      // Before validation, so an attempt to grant oneself a role is named for what it is (403).
      preValidation: [authenticate, refuseAdminOnlyFields],
      schema: {
        tags: ["identity"],
        summary: "Change my profile (absent fields stay, null clears)",
        body: profileEdit,
        response: { 200: profileView },
      },
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["forbidden"] } },
    },
    async (request) => {
      const principal = principalOf(request);
      await profiles.ensure({ id: principal.userId, username: principal.username });
      const edited = await profiles.edit(principal.userId, request.body);
      if (edited === undefined) throw new ProblemError("not_found");
      return answer(edited);
    },
  );
}

async function refuseAdminOnlyFields(request: { body: unknown }): Promise<void> {
  const body = request.body;
  if (typeof body !== "object" || body === null) return;
  const field = adminOnlyFields.find((name) => Object.hasOwn(body, name));
  if (field !== undefined)
    throw new ProblemError("forbidden", { field, detail: "Roles and verification are changed by an admin" });
}

const userSearchQuery = z.strictObject({
  // No NUL: PostgreSQL text cannot hold it (a 500 before).
  // 64 code points as the document counts them (zod counts UTF-16 units, ≤ 2 each).
  search: boundedText(1, 64).optional(),
  cursor: z
    .string()
    .max(64)
    .regex(noNulPattern, noNulMessage)
    .optional()
    .describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

function adminUserRoutes(app: FastifyInstance, { profiles, authenticate }: ProfileRoutesOptions): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/admin/users",
    {
      preHandler: [authenticate, requireRole("admin")],
      schema: {
        tags: ["identity"],
        summary: "Users with their roles, by username; search by username or display name prefix",
        querystring: userSearchQuery,
        response: { 200: z.object({ items: z.array(userListing), nextCursor: z.string().nullable() }) },
      },
      config: { access: { roles: ["admin"] } },
    },
    async (request) => {
      const { search, cursor, limit } = request.query;
      const rows = await profiles.listUsers({ search, afterKey: cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        items: page.map((u) => ({
          id: u.id,
          username: u.username,
          roles: [...u.roles],
          displayName: u.displayName ?? null,
          officer:
            u.officerAgency === undefined ? null : { agency: u.officerAgency, verified: u.officerVerified },
        })),
        nextCursor: rows.length > limit ? (page.at(-1)?.key ?? null) : null,
      };
    },
  );
  routes.post(
    "/v1/admin/users/:id/officer-verification",
    {
      bodyLimit: bodyBytesMax,
      preHandler: [authenticate, requireRole("admin")],
      schema: {
        tags: ["identity"],
        summary: "Mark an officer's agency and badge verified (or not)",
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({ verified: z.boolean() }),
        response: { 200: profileView },
      },
      config: { access: { roles: ["admin"] }, openapi: { problems: ["not_found"] } },
    },
    async (request) => {
      const verified = await profiles.verifyOfficer(
        principalOf(request).userId,
        request.params.id,
        request.body.verified,
      );
      if (verified === undefined)
        throw new ProblemError("not_found", { detail: "No officer profile for this user" });
      return answer(verified);
    },
  );
}
