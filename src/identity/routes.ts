import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { authenticateWith } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { IdentityService } from "./service.ts";
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
  password: z.string().min(passwordLengthMin).max(passwordUnitsMax),
});

const loginBody = z.strictObject({
  username: z.string().min(1).max(usernameLengthMax),
  password: z.string().min(1).max(passwordUnitsMax),
});

const userResponse = z.object({
  id: z.uuid(),
  username: z.string(),
  roles: z.array(z.enum(roles)),
});

const tokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.int().describe("Seconds until the access token expires"),
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
      },
    },
    async (request, reply) => {
      const result = await service.register(request.body.username, request.body.password);
      if (!result.ok) {
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
    },
    async (request) => {
      const result = await service.login({ ...request.body, clientIp: request.ip });
      if (!result.ok) {
        if (result.code === "rate_limited") {
          throw new ProblemError("rate_limited", {
            detail: "Too many failed logins; try again later",
            extra: { retryAfterS: result.retryAfterS },
          });
        }
        throw new ProblemError("invalid_credentials");
      }
      return { accessToken: result.accessToken, tokenType: "Bearer" as const, expiresIn: result.expiresInS };
    },
  );
}

/** preHandler: a valid Bearer access token of this platform, else 401. */
export function authenticate(tokens: AccessTokens) {
  return authenticateWith((token) => tokens.verify(token));
}
