import { parseCookie, stringifySetCookie } from "cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { authenticateWith } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import { deviceTokenLengthMax } from "./device-trust.ts";
import type { IdentityService, RateLimited, SignedIn } from "./service.ts";
import {
  passwordLengthMax,
  passwordLengthMin,
  usernameLengthMax,
  usernameLengthMin,
  usernamePattern,
} from "./service.ts";
import { roles } from "./store.ts";
import type { AccessTokens } from "./tokens.ts";

export interface IdentityRoutesOptions {
  readonly service: IdentityService;
}

// Credentials are a few hundred bytes; a small limit refuses junk before it is buffered or parsed.
const authBodyBytesMax = 16 * 1024;
// zod counts UTF-16 units; the service then counts code points, each at most two units.
const passwordUnitsMax = passwordLengthMax * 2;

const registerBody = z.strictObject({
  username: z.string().min(usernameLengthMin).max(usernameLengthMax).regex(usernamePattern),
  // JSON Schema counts code points, as the service does: the document states its limit, not zod's.
  password: z
    .string()
    .min(passwordLengthMin)
    .max(passwordUnitsMax)
    .meta({
      maxLength: passwordLengthMax,
      description: `${passwordLengthMin} to ${passwordLengthMax} characters`,
    }),
});

const loginBody = z.strictObject({
  username: z.string().min(1).max(usernameLengthMax),
  password: z.string().min(1).max(passwordUnitsMax),
  deviceToken: z
    .string()
    .max(deviceTokenLengthMax)
    .optional()
    .describe("API clients: the deviceToken of an earlier login (browsers send the cookie instead)"),
});

/**
 * The device cookie (OWASP "device cookies"): httpOnly so scripts cannot read it, SameSite=Strict
 * and scoped to /v1/auth so it travels only with logins, Secure whenever the request came over
 * HTTPS (a plain-HTTP development setup would otherwise never get it back).
 */
export const deviceCookieName = "ledgerflow_device";
const deviceCookiePath = "/v1/auth";

const userResponse = z.object({
  id: z.uuid(),
  username: z.string(),
  roles: z.array(z.enum(roles)),
});

export const tokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.int().describe("Seconds until the access token expires"),
  deviceToken: z
    .string()
    .describe(
      "Marks this client as one that signed in before; send it back with later logins so other clients' failures cannot lock it out. Browsers also get it as an httpOnly cookie.",
    ),
});

/** `POST /v1/auth/register` and `POST /v1/auth/login`. Needs `installErrorHandler` on the root. */
export async function identityRoutes(app: FastifyInstance, options: IdentityRoutesOptions): Promise<void> {
  const { service } = options;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: Fastify's default text/plain parser would hand the schema a string (400), where the
  // honest answer is 415.
  app.removeContentTypeParser("text/plain");
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    "/v1/auth/register",
    {
      bodyLimit: authBodyBytesMax,
      schema: {
        tags: ["identity"],
        summary: "Create a customer account",
        body: registerBody,
        response: { 201: userResponse },
        description: "Limited per client address (429 rate_limited with Retry-After).",
      },
      config: { openapi: { problems: ["username_taken", "rate_limited"] } },
    },
    async (request, reply) => {
      const result = await service.register(request.body.username, request.body.password, request.ip);
      if (!result.ok) {
        if (result.code === "rate_limited")
          throw rateLimited(result, "Too many registrations from this client");
        if (result.code === "username_taken") throw new ProblemError("username_taken", { field: "username" });
        throw new ProblemError("validation_failed", { field: result.field, detail: result.detail });
      }
      return reply.code(201).send({ ...result.user, roles: [...result.user.roles] });
    },
  );

  routes.post(
    "/v1/auth/login",
    {
      bodyLimit: authBodyBytesMax,
      schema: {
        tags: ["identity"],
        summary: "Exchange username and password for a bearer access token",
        body: loginBody,
        response: { 200: tokenResponse },
      },
      config: { openapi: { problems: ["invalid_credentials", "rate_limited"] } },
    },
    (request, reply) => login(service, request.body, request, reply),
  );
}

async function login(
  service: IdentityService,
  body: z.infer<typeof loginBody>,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const { username, password } = body;
  const deviceToken = body.deviceToken ?? deviceCookieOf(request);
  const result = await service.login({ username, password, clientIp: request.ip, deviceToken });
  if (!result.ok) {
    if (result.code === "rate_limited") throw rateLimited(result, "Too many failed logins; try again later");
    throw new ProblemError("invalid_credentials");
  }
  return sendSignedIn(result, request, reply);
}

/**
 * The answer of every successful sign-in (password, or a provider's ticket): the access token in
 * the body and the device cookie.
 */
export function sendSignedIn(result: SignedIn, request: FastifyRequest, reply: FastifyReply) {
  reply.header(
    "set-cookie",
    stringifySetCookie({
      name: deviceCookieName,
      value: result.deviceToken,
      maxAge: result.deviceTokenExpiresInS,
      path: deviceCookiePath,
      httpOnly: true,
      sameSite: "strict",
      secure: request.protocol === "https",
    }),
  );
  return {
    accessToken: result.accessToken,
    tokenType: "Bearer" as const,
    expiresIn: result.expiresInS,
    deviceToken: result.deviceToken,
  };
}

function deviceCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : parseCookie(header)[deviceCookieName];
}

function rateLimited(result: RateLimited, detail: string): ProblemError {
  return new ProblemError("rate_limited", { detail, extra: { retryAfterS: result.retryAfterS } });
}

/** preHandler: a valid Bearer access token of this platform, else 401. */
export function authenticate(tokens: AccessTokens) {
  return authenticateWith((token) => tokens.verify(token));
}
