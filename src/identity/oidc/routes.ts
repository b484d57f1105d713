/**
 * `/v1/auth/providers` and `/v1/auth/oidc/*`: sign-in through OpenID Connect providers.
 *
 * start → 303 to the provider (flow id in an httpOnly cookie scoped to /v1/auth/oidc) → the
 * provider sends the browser back to the callback (GET, or POST for `form_post` providers) → 303 to
 * the web app's `/signin/oidc#ticket=…` → the web app POSTs the ticket to `/v1/auth/oidc/exchange`
 * and gets the same answer as a password login. The ticket rides in the fragment, which browsers
 * never send to a server nor in a Referer.
 */
import { parseCookie, stringifySetCookie } from "cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { ClientError } from "openid-client";
import { z } from "zod";
import { UnavailableError } from "../../platform/errors.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { sendSignedIn, tokenResponse } from "../routes.ts";
import { refreshTokenIn } from "../sessions/routes.ts";
import { providerIdPattern } from "./config.ts";
import type { OidcService } from "./service.ts";

export interface OidcRoutesOptions {
  readonly oidc: OidcService;
  /** The public base URL (LEDGERFLOW_PUBLIC_URL); else the request's own origin. */
  readonly publicUrl: string | undefined;
  readonly flowTtlMs: number;
  /** Providers answering with `form_post` (Apple): their flow cookie must survive a cross-site POST. */
  readonly formPostProviders: ReadonlySet<string>;
}

export const flowCookieName = "ledgerflow_oidc";
const flowCookiePath = "/v1/auth/oidc";
const callbackBodyBytesMax = 64 * 1024;

const providerParams = z.strictObject({ provider: z.string().regex(providerIdPattern) });
// Providers add parameters of their own (iss, scope, session_state, authuser…): kept, since
// openid-client checks some of them (RFC 9207 `iss`).
const callbackParameters = z.looseObject({
  // RFC 6749 VSCHAR (printable ASCII). The limits keep even a fully percent-encoded URL under the
  // HTTP server's 16 KiB header limit (else 431): 2,048 for the code (Microsoft's run past 1,000).
  code: z
    .string()
    .max(2048)
    .regex(/^[\x20-\x7E]*$/)
    .optional(),
  state: z
    .string()
    .max(256)
    .regex(/^[\x20-\x7E]*$/)
    .optional(),
  error: z
    .string()
    .max(128)
    .regex(/^[\x20-\x7E]*$/)
    .optional(),
});
const providersResponse = z.object({
  providers: z.array(
    z.object({
      id: z.string(),
      displayName: z.string(),
      startUrl: z.string().describe("Where the sign-in button goes (a redirect to the provider)"),
    }),
  ),
});

export async function oidcRoutes(app: FastifyInstance, options: OidcRoutesOptions): Promise<void> {
  const { oidc } = options;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  // `form_post` callbacks arrive as an HTML form; only this plugin's routes accept one.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: callbackBodyBytesMax },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  providersRoute(app, oidc);
  startRoute(app, options);
  callbackRoutes(app, options);
  exchangeRoute(app, oidc);
}

function providersRoute(root: FastifyInstance, oidc: OidcService): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/auth/providers",
    {
      schema: {
        tags: ["identity"],
        summary: "The OpenID Connect providers users may sign in with (for the sign-in page)",
        response: { 200: providersResponse },
      },
      config: { access: { anonymous: true } },
    },
    async () => ({
      providers: oidc.providers().map((provider) => ({
        ...provider,
        startUrl: `/v1/auth/oidc/${provider.id}/start`,
      })),
    }),
  );
}

function startRoute(root: FastifyInstance, options: OidcRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/auth/oidc/:provider/start",
    {
      schema: {
        tags: ["identity"],
        summary: "Start signing in with a provider: redirects the browser to it",
        params: providerParams,
      },
      config: {
        access: { anonymous: true },
        openapi: {
          success: { 303: "Redirect to the provider's authorization endpoint" },
          problems: ["not_found"],
        },
      },
    },
    async (request, reply) => {
      const providerId = request.params.provider;
      const started = await reachingProvider(() =>
        options.oidc.start(providerId, redirectUriOf(options, request, providerId)),
      );
      if (started === undefined)
        throw new ProblemError("not_found", { detail: "No such provider", field: "provider" });
      setFlowCookie(reply, request, options, providerId, started.flowId);
      return reply.code(303).header("location", started.url).header("cache-control", "no-store").send();
    },
  );
}

function callbackRoutes(root: FastifyInstance, options: OidcRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  const callbackSchema = {
    tags: ["identity"],
    params: providerParams,
  };
  const callbackConfig = {
    access: { anonymous: true } as const,
    openapi: {
      success: {
        303: "Signed in: redirect to the web app's /signin/oidc, the one-time ticket in the fragment",
      },
      problems: ["oidc_sign_in_failed", "email_not_verified", "not_found"] as const,
    },
  };
  routes.get(
    "/v1/auth/oidc/:provider/callback",
    {
      schema: {
        ...callbackSchema,
        summary: "Where the provider sends the browser back",
        querystring: callbackParameters,
      },
      config: callbackConfig,
    },
    (request, reply) => callback(options, request, reply, request.params.provider),
  );
  routes.post(
    "/v1/auth/oidc/:provider/callback",
    {
      bodyLimit: callbackBodyBytesMax,
      schema: {
        ...callbackSchema,
        summary: "Where a form_post provider (Apple) posts the browser back",
        consumes: ["application/x-www-form-urlencoded"],
        body: callbackParameters,
      },
      config: callbackConfig,
    },
    (request, reply) => callback(options, request, reply, request.params.provider),
  );
}

function exchangeRoute(root: FastifyInstance, oidc: OidcService): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/auth/oidc/exchange",
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags: ["identity"],
        summary:
          "Exchange the one-time ticket of a provider sign-in for tokens (as a password login answers)",
        body: z.strictObject({
          ticket: z.string().min(1).max(256),
          refreshTokenIn: refreshTokenIn.optional(),
        }),
        response: { 200: tokenResponse },
      },
      config: { access: { anonymous: true }, openapi: { problems: ["invalid_credentials", "rate_limited"] } },
    },
    async (request, reply) => {
      const device = request.headers["user-agent"];
      const answer = await oidc.exchange(request.body.ticket, { ip: request.ip, device });
      if (!answer.ok && answer.code === "rate_limited")
        throw new ProblemError("rate_limited", {
          detail: "Too many refused sign-in tickets from this client; try again later",
          extra: { retryAfterS: answer.retryAfterS },
        });
      if (!answer.ok)
        throw new ProblemError("invalid_credentials", {
          detail: "The sign-in ticket is unknown, used or expired",
        });
      return sendSignedIn(answer.signedIn, request, reply, request.body.refreshTokenIn ?? "body");
    },
  );
}

async function callback(
  options: OidcRoutesOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  providerId: string,
) {
  // The flow cookie is single use: cleared whatever happens next.
  reply.header(
    "set-cookie",
    stringifySetCookie({ name: flowCookieName, value: "", maxAge: 0, path: flowCookiePath }),
  );
  const header = request.headers.cookie;
  const flowId = header === undefined ? undefined : parseCookie(header)[flowCookieName];
  const finished = await reachingProvider(() =>
    options.oidc.callback({
      providerId,
      flowId,
      request: asFetchRequest(options, request, providerId),
      clientIp: request.ip,
    }),
  );
  if (finished.ok) {
    const target = `${baseUrlOf(options, request)}/signin/oidc#ticket=${encodeURIComponent(finished.ticket)}`;
    return reply.code(303).header("location", target).header("cache-control", "no-store").send();
  }
  if (finished.reason === "unknown_provider") throw new ProblemError("not_found", { field: "provider" });
  if (finished.reason === "email_not_verified")
    throw new ProblemError("email_not_verified", {
      detail:
        "An account uses this email address; sign in to it first, this provider has not verified the address",
    });
  throw new ProblemError("oidc_sign_in_failed", {
    detail: `Refused: ${finished.reason}`,
    extra: { reason: finished.reason },
  });
}

/** The callback as openid-client reads it: the registered redirect URI plus what the provider sent. */
function asFetchRequest(options: OidcRoutesOptions, request: FastifyRequest, providerId: string): Request {
  const url = new URL(redirectUriOf(options, request, providerId));
  if (request.method === "POST") {
    const body = new URLSearchParams(request.body as Record<string, string>);
    return new Request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  }
  for (const [name, value] of Object.entries(request.query as Record<string, string>))
    url.searchParams.set(name, value);
  return new Request(url);
}

/** A provider that cannot be reached (down, timing out) is the platform's 503, not the user's fault. */
async function reachingProvider<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // fetch fails with a TypeError; openid-client's own errors here are timeouts and bad answers.
    if (error instanceof TypeError || error instanceof ClientError)
      throw new UnavailableError("OpenID Connect provider", { cause: error });
    throw error;
  }
}

function baseUrlOf(options: OidcRoutesOptions, request: FastifyRequest): string {
  return (options.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/$/, "");
}

export function redirectUriOf(
  options: OidcRoutesOptions,
  request: FastifyRequest,
  providerId: string,
): string {
  return `${baseUrlOf(options, request)}/v1/auth/oidc/${providerId}/callback`;
}

function setFlowCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  options: OidcRoutesOptions,
  providerId: string,
  flowId: string,
): void {
  const crossSitePost = options.formPostProviders.has(providerId);
  reply.header(
    "set-cookie",
    stringifySetCookie({
      name: flowCookieName,
      value: flowId,
      maxAge: Math.floor(options.flowTtlMs / 1000),
      path: flowCookiePath,
      httpOnly: true,
      // Lax: sent on the provider's top-level redirect back, not on cross-site subrequests. A
      // form_post arrives as a cross-site POST, which only a SameSite=None (hence Secure) cookie survives.
      sameSite: crossSitePost ? "none" : "lax",
      secure: crossSitePost || request.protocol === "https",
    }),
  );
}
