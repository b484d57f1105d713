/**
 * `/v1/auth/refresh`, `/v1/auth/logout`, `/v1/me/sessions`. The refresh token travels in the body
 * for API clients and, for the web app, in the httpOnly cookie `ledgerflow_refresh` (README
 * "Sessions"); a token that came in the cookie is answered in the cookie, never in the body, so page
 * scripts never see it.
 */
import { parseCookie, stringifySetCookie } from "cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { bearerToken, type PreHandler, principalOf, type VerifyToken } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { type IssuedSession, refreshTokenLengthMax, type Sessions } from "./sessions.ts";

export const refreshCookieName = "ledgerflow_refresh";
/** Scoped to the two routes that read it (refresh, logout): no other request carries it. */
export const refreshCookiePath = "/v1/auth";
/**
 * Tells the web app a refresh cookie exists (scripts cannot see the httpOnly one), so a page opened
 * without a stored access token tries to resume only when there is something to resume. No secret.
 */
export const signedInHintCookieName = "ledgerflow_signed_in";
const bodyBytesMax = 4 * 1024;

export interface SessionRoutesOptions {
  readonly sessions: Sessions;
  readonly authenticate: PreHandler;
  readonly verifyToken: VerifyToken;
}

export const refreshTokenIn = z
  .enum(["body", "cookie"])
  .default("body")
  .describe("Where the refresh token is returned: body (API clients) or the httpOnly cookie (the web app)");

const refreshBody = z
  .strictObject({
    refreshToken: z
      .string()
      .min(1)
      .max(refreshTokenLengthMax)
      .optional()
      .describe("API clients; browsers send the cookie"),
  })
  // No body at all (a browser's cookie refresh, a Bearer logout) arrives as null.
  .nullish();

export const sessionTokens = z.object({
  accessToken: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.int().describe("Seconds until the access token expires"),
  sessionId: z.uuid(),
  refreshToken: z.string().optional().describe("Only when asked for in the body; rotates on every refresh"),
  refreshExpiresIn: z.int().describe("Seconds until the refresh token expires unless used"),
});

const sessionView = z.object({
  id: z.uuid(),
  device: z.string(),
  ipCoarse: z.string().describe("The client network, IPv4 /24 or IPv6 /48"),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime(),
  current: z.boolean().describe("The session of the access token of this request"),
});

/** Sets the refresh cookie or returns the token in the body; the answer to login and refresh. */
export function answerSession(
  request: FastifyRequest,
  reply: FastifyReply,
  session: IssuedSession,
  into: "body" | "cookie",
) {
  if (into === "cookie") setRefreshCookies(request, reply, session.refreshToken, session.refreshExpiresInS);
  return {
    accessToken: session.accessToken,
    tokenType: "Bearer" as const,
    expiresIn: session.expiresInS,
    sessionId: session.sessionId,
    ...(into === "body" ? { refreshToken: session.refreshToken } : {}),
    refreshExpiresIn: session.refreshExpiresInS,
  };
}

/** The refresh cookie and its hint; an empty token with 0 s clears both. */
function setRefreshCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeS: number,
): void {
  reply.header("set-cookie", refreshCookie(request, token, maxAgeS));
  reply.header(
    "set-cookie",
    stringifySetCookie({
      name: signedInHintCookieName,
      value: maxAgeS > 0 ? "1" : "",
      maxAge: maxAgeS,
      path: "/",
      sameSite: "strict",
      secure: request.protocol === "https",
    }),
  );
}

/** httpOnly, SameSite=Strict, Secure over HTTPS (plain-HTTP loopback development gets it without). */
function refreshCookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  return stringifySetCookie({
    name: refreshCookieName,
    value,
    maxAge: maxAgeS,
    path: refreshCookiePath,
    httpOnly: true,
    sameSite: "strict",
    secure: request.protocol === "https",
  });
}

function refreshCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : parseCookie(header)[refreshCookieName];
}

function clientOf(request: FastifyRequest) {
  return { ip: request.ip, device: request.headers["user-agent"] };
}

export async function sessionRoutes(app: FastifyInstance, options: SessionRoutesOptions): Promise<void> {
  const { sessions, authenticate } = options;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  refreshAndLogoutRoutes(app, options);
  mySessionsRoutes(app, sessions, authenticate);
}

function refreshAndLogoutRoutes(app: FastifyInstance, options: SessionRoutesOptions): void {
  const { sessions } = options;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/auth/refresh",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        tags: ["identity"],
        summary: "Exchange a refresh token for a new access token and a new refresh token",
        description:
          "The refresh token rotates: the one sent is spent. Sending a spent one again revokes the whole session (reuse detection).",
        body: refreshBody,
        response: { 200: sessionTokens },
      },
      config: { access: { anonymous: true }, openapi: { problems: ["refresh_token_invalid"] } },
    },
    async (request, reply) => {
      const fromBody = request.body?.refreshToken;
      const token = fromBody ?? refreshCookieOf(request);
      if (token === undefined)
        throw new ProblemError("refresh_token_invalid", { detail: "Send the refresh token" });
      const result = await sessions.refresh(token, clientOf(request));
      if (!result.ok) {
        if (fromBody === undefined) setRefreshCookies(request, reply, "", 0);
        throw new ProblemError("refresh_token_invalid");
      }
      return answerSession(request, reply, result, fromBody === undefined ? "cookie" : "body");
    },
  );

  routes.post(
    "/v1/auth/logout",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        tags: ["identity"],
        summary: "End a session: its refresh token and access tokens stop working everywhere",
        description:
          "Identifies the session by the refresh token (body or cookie), else by the Bearer access token. Always 204.",
        body: refreshBody,
      },
      config: { access: { anonymous: true } },
    },
    async (request, reply) => {
      const refreshToken = request.body?.refreshToken ?? refreshCookieOf(request);
      const bearer = bearerToken(request.headers.authorization);
      const verified = bearer === undefined ? undefined : await options.verifyToken(bearer);
      const principal = verified?.ok ? verified.principal : undefined;
      await sessions.logout(
        { refreshToken, sessionId: principal?.sessionId, userId: principal?.userId },
        clientOf(request),
      );
      setRefreshCookies(request, reply, "", 0);
      return reply.code(204).send();
    },
  );
}

function mySessionsRoutes(app: FastifyInstance, sessions: Sessions, authenticate: PreHandler): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/me/sessions",
    {
      preHandler: authenticate,
      schema: {
        tags: ["identity"],
        summary: "My signed-in sessions and devices, most recently used first",
        response: { 200: z.object({ items: z.array(sessionView) }) },
      },
      config: { access: { roles: "any" } },
    },
    async (request) => {
      const principal = principalOf(request);
      const items = await sessions.list(principal.userId);
      return {
        items: items.map((s) => ({
          id: s.id,
          device: s.device,
          ipCoarse: s.ipCoarse,
          createdAt: new Date(s.createdAtMs).toISOString(),
          lastUsedAt: new Date(s.lastUsedAtMs).toISOString(),
          current: s.id === principal.sessionId,
        })),
      };
    },
  );

  routes.delete(
    "/v1/me/sessions/:id",
    {
      preHandler: authenticate,
      schema: {
        tags: ["identity"],
        summary: "Sign out one of my sessions (its device can no longer refresh or call the API)",
        params: z.object({ id: z.uuid() }),
      },
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const revoked = await sessions.revoke(principal.userId, request.params.id);
      if (!revoked) throw new ProblemError("not_found", { detail: "No such live session of yours" });
      return reply.code(204).send();
    },
  );
}
