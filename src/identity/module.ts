/**
 * The identity module: users, passwords, access tokens, the login limiter, the first admin, and the
 * `/v1/auth` routes. Its published interface verifies access tokens for every other edge.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import { z } from "zod";
import type { Clock, IdGenerator, Random } from "../platform/clock.ts";
import { positiveInt } from "../platform/config.ts";
import { authenticateWith, type PreHandler, type VerifyToken } from "../platform/http/auth.ts";
import { type ConfigSection, type LedgerflowModule, stopper } from "../platform/module.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createRedisLoginLimiter } from "./adapters/redis-login-limiter.ts";
import { createMemoryLoginLimiter, type LoginLimiter } from "./login-limiter.ts";
import { createArgon2Hasher } from "./passwords.ts";
import { identityRoutes } from "./routes.ts";
import { createIdentityService, type IdentityService } from "./service.ts";
import { createAccessTokens } from "./tokens.ts";

export const identityConfig = {
  sections: {
    auth: z.object({
      /** HMAC secret for access tokens; generated into the data dir in embedded mode when unset. */
      jwtSecret: z.string().min(32).optional(),
      accessTokenTtlSeconds: positiveInt.default(3_600),
      adminUsername: z.string().min(3).default("admin"),
      adminPassword: z.string().min(10).optional(),
      /** Accepted clock skew between the node that issued an access token and the one checking it. */
      clockToleranceSeconds: z.coerce.number().int().min(0).max(300).default(5),
    }),
  },
  env: {
    LEDGERFLOW_JWT_SECRET: ["auth", "jwtSecret"],
    LEDGERFLOW_ACCESS_TOKEN_TTL_SECONDS: ["auth", "accessTokenTtlSeconds"],
    LEDGERFLOW_ADMIN_USERNAME: ["auth", "adminUsername"],
    LEDGERFLOW_ADMIN_PASSWORD: ["auth", "adminPassword"],
    LEDGERFLOW_AUTH_CLOCK_TOLERANCE_SECONDS: ["auth", "clockToleranceSeconds"],
  },
} as const satisfies ConfigSection;

export type IdentityConfig = z.infer<typeof identityConfig.sections.auth>;

export interface IdentityDeps {
  readonly config: IdentityConfig;
  readonly redisUrl: string | undefined;
  /** The access tokens' HMAC key (from the configuration or the data directory's secrets). */
  readonly jwtSecret: string;
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Draws the generated admin password. */
  readonly random: Random;
  readonly logger: pino.Logger;
}

export interface IdentityApi {
  readonly service: IdentityService;
  readonly verifyToken: VerifyToken;
  /** preHandler every context's routes use: a valid Bearer access token, else 401. */
  readonly authenticate: PreHandler;
  /** The admin's password when this start created the admin and none was configured. */
  readonly adminPassword: string | undefined;
}

/**
 * The login limiter: in Redis when configured, so that every API process behind the balancer
 * shares one budget per username and IP; else in this process's memory (embedded mode).
 */
export function createConfiguredLoginLimiter(
  redisUrl: string | undefined,
  clock: Clock,
  logger: pino.Logger,
): LoginLimiter & { close(): Promise<void> } {
  if (redisUrl === undefined) return { ...createMemoryLoginLimiter(clock), close: async () => {} };
  return createRedisLoginLimiter(clock, {
    url: redisUrl,
    onConnectionError: (error) => logger.warn({ err: error }, "login limiter: Redis connection failed"),
  });
}

export const identityModule: LedgerflowModule<IdentityDeps, IdentityApi> = {
  name: "identity",
  config: identityConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: {},
  async start(deps, run) {
    const { config, clock } = deps;
    const stops = stopper((error) => deps.logger.warn({ err: error }, "identity stop"));
    const tokens = await createAccessTokens(
      {
        secret: new TextEncoder().encode(deps.jwtSecret),
        expiresInS: config.accessTokenTtlSeconds,
        clockToleranceS: config.clockToleranceSeconds,
      },
      clock,
    );
    const limiter = createConfiguredLoginLimiter(deps.redisUrl, clock, deps.logger);
    stops.add(() => limiter.close());
    const service = createIdentityService({
      store: createPostgresUserStore(deps.pool),
      passwords: createArgon2Hasher(),
      tokens,
      limiter,
      clock,
      ids: deps.ids,
    });
    let adminPassword: string | undefined;
    if (run.abilities.http) {
      // No default password: one is generated and printed on first start when none is configured.
      adminPassword = config.adminPassword ?? Buffer.from(deps.random.bytes(12)).toString("base64url");
      const admin = await service.bootstrapAdmin(config.adminUsername, adminPassword);
      if (!admin.ok) throw new Error(`cannot bootstrap the admin: ${admin.code}`);
      if (!admin.created) adminPassword = config.adminPassword;
    }
    const verifyToken: VerifyToken = (token) => tokens.verify(token);
    return {
      published: { service, verifyToken, authenticate: authenticateWith(verifyToken), adminPassword },
      routes: [
        async (app) => {
          await app.register(identityRoutes, { service });
        },
      ],
      running: ["identity"],
      stop: stops.stop,
    };
  },
};
