/**
 * The identity module: users, passwords, access tokens, the login limiter, the first admin, and the
 * `/v1/auth` routes. Its published interface verifies access tokens for every other edge.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import type { Clock, IdGenerator, Random } from "../platform/clock.ts";
import { positiveInt } from "../platform/config.ts";
import { authenticateWith, type PreHandler, type VerifyToken } from "../platform/http/auth.ts";
import type { Log } from "../platform/log/port.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import {
  type ConfigSection,
  type LedgerflowModule,
  type ModuleRun,
  type RoutePlugin,
  stopper,
} from "../platform/module.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import type { TopicDeclaration } from "../platform/topology.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createRedisLoginLimiter } from "./adapters/redis-login-limiter.ts";
import { createDeviceTrust, deviceKeyOf } from "./device-trust.ts";
import { type AuthEvents, createLogAuthEvents } from "./events.ts";
import { createHashingQueue } from "./hashing-queue.ts";
import { createMemoryLoginLimiter, type LimitRules, type LoginLimiter } from "./login-limiter.ts";
import { createAuthAudit } from "./oidc/audit.ts";
import { type OidcConfig, oidcConfig, resolveProviders } from "./oidc/config.ts";
import { oidcRoutes } from "./oidc/routes.ts";
import { createOidcService } from "./oidc/service.ts";
import { createPostgresOidcStore } from "./oidc/store.ts";
import { type PasskeysConfig, passkeysConfig } from "./passkeys/config.ts";
import { passkeyRoutes } from "./passkeys/routes.ts";
import { createPasskeys } from "./passkeys/service.ts";
import { createStepUp, type StepUp } from "./passkeys/step-up.ts";
import { createPostgresPasskeyStore } from "./passkeys/store.ts";
import { createArgon2Hasher } from "./passwords.ts";
import { codeKeyOf } from "./phone/codes.ts";
import { type PhoneConfig, phoneConfig, type SmsConfig } from "./phone/config.ts";
import { phoneRoutes } from "./phone/routes.ts";
import { createPhoneVerification } from "./phone/service.ts";
import { createDevSmsSink, createHttpSmsSender, type DevSmsSink, type SmsSender } from "./phone/sms.ts";
import { createPostgresPhoneStore } from "./phone/store.ts";
import { runCommunityFeed } from "./profiles/community-feed.ts";
import { type CommunityStatsStore, createPostgresCommunityStats } from "./profiles/community-store.ts";
import { createPiiCipher, parsePiiKey } from "./profiles/pii-cipher.ts";
import { createPostgresProfileStore } from "./profiles/postgres.ts";
import { createProfiles, type Profiles, type PublicProfile } from "./profiles/profiles.ts";
import { profileRoutes } from "./profiles/routes.ts";
import { roleRoutes } from "./role-routes.ts";
import { identityRoutes } from "./routes.ts";
import { createIdentityService, type IdentityService, type PublicUser, usernamePattern } from "./service.ts";
import { createPostgresSessionStore } from "./sessions/postgres.ts";
import { createRedisRevocations } from "./sessions/redis-revocations.ts";
import { createMemoryRevocations, type RevocationSet } from "./sessions/revocations.ts";
import { sessionRoutes } from "./sessions/routes.ts";
import { createSessions, type Sessions } from "./sessions/sessions.ts";
import type { UserRecord, UserStore } from "./store.ts";
import { type AccessTokens, createAccessTokens } from "./tokens.ts";
import { identityTopics } from "./topics.ts";

export const identityConfig = {
  sections: {
    auth: z.object({
      /** HMAC secret for access tokens; generated into the data dir in embedded mode when unset. */
      jwtSecret: z.string().min(32).optional(),
      /** Short: a session lives on through its refresh token; revocation also ends it at once. */
      accessTokenTtlSeconds: positiveInt.max(3_600).default(900),
      /**
       * AES-256 key for personal data at rest (32 bytes, base64); no default: embedded mode keeps a
       * generated one in the data directory's secrets, distributed mode must be given it.
       */
      piiKey: z.string().min(43).max(64).optional(),
      /** Earlier PII keys, comma-separated, still read after a rotation (values name their key). */
      piiKeysPrevious: z.string().max(1_000).optional(),
      /** How long an unused refresh token stays valid; every refresh renews it (180 days). */
      refreshTokenTtlMs: positiveInt.default(180 * 24 * 60 * 60 * 1000),
      adminUsername: z.string().min(3).default("admin"),
      adminPassword: z.string().min(10).optional(),
      /**
       * HMAC secret for device cookies (OWASP "device cookies": a client that signed in before keeps
       * getting in while others guess); when unset, derived from jwtSecret (HKDF, a label of its own).
       */
      deviceSecret: z.string().min(32).optional(),
      /** How long a device cookie stays trusted after the login that issued it (90 days). */
      deviceTrustTtlMs: positiveInt.default(90 * 24 * 60 * 60 * 1000),
      /** Failed logins with one device cookie per window before that cookie alone is locked out. */
      deviceFailuresMax: positiveInt.default(10),
      /** Failed logins from one client address per window, over all usernames (password spraying). */
      loginClientFailuresMax: positiveInt.default(100),
      /** Failed logins for one username from one client address per window (online guessing). */
      loginUserClientFailuresMax: positiveInt.default(5),
      /** The fixed window of the three limits above. */
      loginFailuresWindowMs: positiveInt.default(15 * 60 * 1000),
      /** Failed logins for a username from untrusted clients before each further one must wait. */
      loginUsernameFailuresUndelayedMax: z.coerce.number().int().min(0).default(10),
      /** The first wait; it doubles with every further failure, up to the maximum. Never a block. */
      loginUsernameDelayBaseMs: positiveInt.default(1_000),
      loginUsernameDelayMaxMs: positiveInt.default(60_000),
      /** A username's failures are forgotten after this long without one. */
      loginUsernameWindowMs: positiveInt.default(60 * 60 * 1000),
      /** Registrations (successful or not) per client address per window. */
      registrationsPerClientMax: positiveInt.default(10),
      registrationsWindowMs: positiveInt.default(60 * 60 * 1000),
      /** argon2id hashes and verifications running at once; the rest wait in a bounded queue. */
      passwordHashConcurrencyMax: positiveInt.max(64).default(2),
      /** Hashes waiting for a slot; beyond it the request is answered 503 `busy` with Retry-After. */
      passwordHashQueuedMax: z.coerce.number().int().min(0).max(100_000).default(64),
      /** Accepted clock skew between the node that issued an access token and the one checking it. */
      clockToleranceSeconds: z.coerce.number().int().min(0).max(300).default(5),
    }),
    ...oidcConfig.sections,
    ...phoneConfig.sections,
    ...passkeysConfig.sections,
  },
  env: {
    LEDGERFLOW_JWT_SECRET: ["auth", "jwtSecret"],
    LEDGERFLOW_ACCESS_TOKEN_TTL_SECONDS: ["auth", "accessTokenTtlSeconds"],
    LEDGERFLOW_REFRESH_TOKEN_TTL_MS: ["auth", "refreshTokenTtlMs"],
    LEDGERFLOW_PII_KEY: ["auth", "piiKey"],
    LEDGERFLOW_PII_KEYS_PREVIOUS: ["auth", "piiKeysPrevious"],
    LEDGERFLOW_ADMIN_USERNAME: ["auth", "adminUsername"],
    LEDGERFLOW_ADMIN_PASSWORD: ["auth", "adminPassword"],
    LEDGERFLOW_DEVICE_SECRET: ["auth", "deviceSecret"],
    LEDGERFLOW_DEVICE_TRUST_TTL_MS: ["auth", "deviceTrustTtlMs"],
    LEDGERFLOW_DEVICE_FAILURES_MAX: ["auth", "deviceFailuresMax"],
    LEDGERFLOW_LOGIN_CLIENT_FAILURES_MAX: ["auth", "loginClientFailuresMax"],
    LEDGERFLOW_LOGIN_USER_CLIENT_FAILURES_MAX: ["auth", "loginUserClientFailuresMax"],
    LEDGERFLOW_LOGIN_FAILURES_WINDOW_MS: ["auth", "loginFailuresWindowMs"],
    LEDGERFLOW_LOGIN_USERNAME_FAILURES_UNDELAYED_MAX: ["auth", "loginUsernameFailuresUndelayedMax"],
    LEDGERFLOW_LOGIN_USERNAME_DELAY_BASE_MS: ["auth", "loginUsernameDelayBaseMs"],
    LEDGERFLOW_LOGIN_USERNAME_DELAY_MAX_MS: ["auth", "loginUsernameDelayMaxMs"],
    LEDGERFLOW_LOGIN_USERNAME_WINDOW_MS: ["auth", "loginUsernameWindowMs"],
    LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX: ["auth", "registrationsPerClientMax"],
    LEDGERFLOW_REGISTRATIONS_WINDOW_MS: ["auth", "registrationsWindowMs"],
    LEDGERFLOW_PASSWORD_HASH_CONCURRENCY_MAX: ["auth", "passwordHashConcurrencyMax"],
    LEDGERFLOW_PASSWORD_HASH_QUEUED_MAX: ["auth", "passwordHashQueuedMax"],
    LEDGERFLOW_AUTH_CLOCK_TOLERANCE_SECONDS: ["auth", "clockToleranceSeconds"],
    ...oidcConfig.env,
    ...phoneConfig.env,
    ...passkeysConfig.env,
  },
} as const satisfies ConfigSection;

export type IdentityConfig = z.infer<typeof identityConfig.sections.auth>;

export interface IdentityDeps {
  readonly config: IdentityConfig;
  readonly redisUrl: string | undefined;
  /** The access tokens' HMAC key (from the configuration or the data directory's secrets). */
  readonly jwtSecret: string;
  /** The personal-data key (configuration or the data directory's secrets). */
  readonly piiKey: string;
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Draws the generated admin password. */
  readonly random: Random;
  readonly logger: pino.Logger;
  /** Sign-in with OpenID Connect providers (`oidc` section); none configured when absent. */
  readonly oidc?: OidcConfig;
  /** The public base URL (LEDGERFLOW_PUBLIC_URL) the providers send browsers back to. */
  readonly publicUrl?: string | undefined;
  /** Phone verification (`phone`, `sms` sections); SMS as in embedded mode when absent. */
  readonly phone?: {
    readonly phone: PhoneConfig;
    readonly sms: SmsConfig;
    readonly mode: "embedded" | "distributed";
  };
  /** Passkeys (`passkeys` section); the defaults when absent. */
  readonly passkeys?: PasskeysConfig;
  /** Where authentication events are published (`identity.events`) and community events are read. */
  readonly log: Log;
  readonly registry: SchemaRegistry;
  /**
   * The community context's `community.events`, which profiles project (where projections run).
   * Given by the composition root: the community context uses identity's door, so identity does not
   * import its.
   */
  readonly communityEvents: TopicDeclaration;
  /** Where the profile projection's lag and dead-letter metrics are registered. */
  readonly metricsRegistry: Registry;
}

export interface IdentityApi {
  readonly service: IdentityService;
  readonly verifyToken: VerifyToken;
  /** preHandler every context's routes use: a valid Bearer access token, else 401. */
  readonly authenticate: PreHandler;
  /** Sign-in sessions: start one after a sign-in of another kind (OIDC, passkey), list, revoke. */
  readonly sessions: Sessions;
  readonly events: AuthEvents;
  /**
   * The name to screen each user by (legal name if set, else display name), for the risk context's
   * fuzzy name screening; at most `nameLookupIdsMax` ids per call, unknown ids absent.
   */
  nameOf(userIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** Users whose screening name may have changed at or after `sinceMs` (for risk's name cache). */
  namesChangedSince(sinceMs: number, limit: number): Promise<readonly { userId: string; atMs: number }[]>;
  /** Public profiles (display name, avatar, officer's agency and verification; no personal data), at most `nameLookupIdsMax` ids per call. */
  publicProfiles(userIds: readonly string[]): Promise<ReadonlyMap<string, PublicProfile>>;
  /** The admin's password when this start created the admin and none was configured. */
  readonly adminPassword: string | undefined;
  /** Looks users up (id, username in any case, roles; never the password hash), for other contexts. */
  readonly users: UserDirectory;
  /** Passkey confirmation of large transfers (the ledger asks before appending a transfer). */
  readonly stepUp: StepUp;
}

/** Who a user is, as other contexts may know it. */
export interface UserDirectory {
  byId(id: string): Promise<PublicUser | undefined>;
  byUsername(username: string): Promise<PublicUser | undefined>;
}

function userDirectory(store: Pick<UserStore, "findById" | "findByUsername">): UserDirectory {
  const publicOf = (user: UserRecord | undefined): PublicUser | undefined =>
    user === undefined ? undefined : { id: user.id, username: user.username, roles: user.roles };
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return {
    // Ids are UUIDs: anything else is no user (and no database error for a malformed id).
    byId: async (id) => (uuid.test(id) ? publicOf(await store.findById(id.toLowerCase())) : undefined),
    byUsername: async (username) =>
      usernamePattern.test(username) ? publicOf(await store.findByUsername(username)) : undefined,
  };
}

/**
 * The login limiter: in Redis when configured, so that every API process behind the balancer
 * shares one budget per key; else in this process's memory (embedded mode).
 */
export function createConfiguredLoginLimiter(
  redisUrl: string | undefined,
  clock: Clock,
  logger: pino.Logger,
  rules: LimitRules = limitRulesOf(identityDefaults),
): LoginLimiter & { close(): Promise<void> } {
  if (redisUrl === undefined) return { ...createMemoryLoginLimiter(clock, { rules }), close: async () => {} };
  return createRedisLoginLimiter(clock, {
    url: redisUrl,
    rules,
    onConnectionError: (error) => logger.warn({ err: error }, "login limiter: Redis connection failed"),
  });
}

const identityDefaults: IdentityConfig = identityConfig.sections.auth.parse({});

/** The limits of logins and registrations, from `auth.*` (README "Login and registration limits"). */
export function limitRulesOf(auth: IdentityConfig): LimitRules {
  const windowMs = auth.loginFailuresWindowMs;
  return {
    client: { kind: "block", attemptsMax: auth.loginClientFailuresMax, windowMs },
    userClient: { kind: "block", attemptsMax: auth.loginUserClientFailuresMax, windowMs },
    username: {
      kind: "delay",
      attemptsUndelayedMax: auth.loginUsernameFailuresUndelayedMax,
      delayBaseMs: auth.loginUsernameDelayBaseMs,
      delayMaxMs: auth.loginUsernameDelayMaxMs,
      windowMs: auth.loginUsernameWindowMs,
    },
    device: { kind: "block", attemptsMax: auth.deviceFailuresMax, windowMs },
    registration: {
      kind: "block",
      attemptsMax: auth.registrationsPerClientMax,
      windowMs: auth.registrationsWindowMs,
    },
  };
}

export const identityModule: LedgerflowModule<IdentityDeps, IdentityApi> = {
  name: "identity",
  config: identityConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: identityTopics,
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
    const limiter = createConfiguredLoginLimiter(deps.redisUrl, clock, deps.logger, limitRulesOf(config));
    stops.add(() => limiter.close());
    const secretKey = new TextEncoder().encode(deps.jwtSecret);
    const store = createPostgresUserStore(deps.pool);
    const { events, revocations, sessions } = await startSessions(deps, tokens, store);
    stops.add(() => revocations.close());
    const community = createPostgresCommunityStats(deps.pool);
    const profiles = profilesOf(deps, events, community);
    const service = createIdentityService({
      ...{ sessions, events, store, profiles },
      passwords: createHashingQueue(createArgon2Hasher(), {
        concurrencyMax: config.passwordHashConcurrencyMax,
        queuedMax: config.passwordHashQueuedMax,
      }),
      tokens,
      limiter,
      devices: createDeviceTrust(
        { key: deviceKeyOf(config.deviceSecret, secretKey), ttlMs: config.deviceTrustTtlMs },
        clock,
        deps.ids,
      ),
      clock,
      ids: deps.ids,
      random: deps.random,
    });
    const adminPassword = run.abilities.http ? await bootstrapAdmin(config, service, deps.random) : undefined;
    const verifyToken = verifierWithRevocations(tokens, revocations);
    const authenticate = authenticateWith(verifyToken);
    const users = userDirectory(store);
    const passkeys = passkeysOf(deps, { service, events, authenticate, users, limiter });
    const running = ["identity", ...(await startCommunityFeed(deps, run, community, stops))];
    return {
      published: {
        ...{ service, verifyToken, authenticate, adminPassword, sessions, events, users },
        nameOf: profiles.nameOf,
        namesChangedSince: profiles.namesChangedSince,
        publicProfiles: profiles.publicProfiles,
        stepUp: passkeys.stepUp,
      },
      routes: [
        async (app) => {
          await app.register(identityRoutes, { service });
          await app.register(roleRoutes, { store, clock, authenticate, events });
          await app.register(sessionRoutes, { sessions, authenticate, verifyToken });
          await app.register(profileRoutes, { profiles, authenticate });
        },
        oidcRoutePlugin(deps, service, events, limiter),
        phoneRoutePlugin(deps, authenticate, events),
        passkeys.routes,
      ],
      running,
      stop: stops.stop,
    };
  },
};

/**
 * Makes sure the first admin exists; answers the password to print when it was just created.
 * No default password: one is generated and printed on first start when none is configured.
 */
async function bootstrapAdmin(
  config: IdentityDeps["config"],
  service: IdentityService,
  random: IdentityDeps["random"],
): Promise<string | undefined> {
  const password = config.adminPassword ?? Buffer.from(random.bytes(12)).toString("base64url");
  const admin = await service.bootstrapAdmin(config.adminUsername, password);
  if (!admin.ok) throw new Error(`cannot bootstrap the admin: ${admin.code}`);
  return admin.created ? password : config.adminPassword;
}

/** The `/v1/auth/providers` and `/v1/auth/oidc/*` routes (src/identity/oidc). */
function oidcRoutePlugin(
  deps: IdentityDeps,
  service: IdentityService,
  events: AuthEvents,
  limiter: LoginLimiter,
): RoutePlugin {
  const config = deps.oidc ?? oidcConfig.sections.oidc.parse({});
  const providers = resolveProviders(config);
  const oidc = createOidcService({
    config,
    providers,
    store: createPostgresOidcStore(deps.pool),
    identity: service,
    audit: createAuthAudit(deps.pool, deps.clock, deps.logger, events),
    clock: deps.clock,
    random: deps.random,
    limiter,
  });
  const formPostProviders = new Set(providers.filter((p) => p.responseMode === "form_post").map((p) => p.id));
  return async (app) => {
    await app.register(oidcRoutes, {
      oidc,
      publicUrl: deps.publicUrl,
      flowTtlMs: config.flowTtlMs,
      formPostProviders,
    });
  };
}

interface PasskeyParts {
  readonly service: IdentityService;
  readonly events: AuthEvents;
  readonly authenticate: PreHandler;
  readonly users: UserDirectory;
  /** The login limiter: failed passkey sign-ins count against the client address like passwords. */
  readonly limiter: LoginLimiter;
}

/** The `/v1/me/passkeys` and `/v1/auth/passkeys/*` routes (src/identity/passkeys). */
function passkeysOf(
  deps: IdentityDeps,
  { service, events, authenticate, users, limiter }: PasskeyParts,
): { stepUp: StepUp; routes: RoutePlugin } {
  const passkeyDeps = {
    config: deps.passkeys ?? passkeysConfig.sections.passkeys.parse({}),
    store: createPostgresPasskeyStore(deps.pool),
    identity: service,
    users,
    limiter,
    events,
    audit: createAuthAudit(deps.pool, deps.clock, deps.logger, events),
    clock: deps.clock,
    random: deps.random,
  };
  const passkeys = createPasskeys(passkeyDeps);
  const stepUp = createStepUp({ ...passkeyDeps, publicUrl: deps.publicUrl });
  return {
    stepUp,
    routes: async (app) => {
      await app.register(passkeyRoutes, { passkeys, stepUp, authenticate, users, publicUrl: deps.publicUrl });
    },
  };
}

/** The `/v1/me/phone` routes (src/identity/phone) with the configured SMS port. */
function phoneRoutePlugin(deps: IdentityDeps, authenticate: PreHandler, events: AuthEvents): RoutePlugin {
  const settings = deps.phone ?? {
    phone: phoneConfig.sections.phone.parse({}),
    sms: phoneConfig.sections.sms.parse({}),
    mode: "embedded" as const,
  };
  const sms = smsSenderOf(settings.sms, settings.mode, deps);
  const phone =
    sms === undefined
      ? undefined
      : createPhoneVerification({
          config: settings.phone,
          store: createPostgresPhoneStore(deps.pool),
          sms,
          codeKey: codeKeyOf(new TextEncoder().encode(deps.jwtSecret)),
          audit: createAuthAudit(deps.pool, deps.clock, deps.logger, events),
          clock: deps.clock,
          random: deps.random,
        });
  // The development sink's codes are shown only in embedded mode (one process, a developer's machine).
  const devSink = sms?.kind === "dev" && settings.mode === "embedded" ? (sms as DevSmsSink) : undefined;
  return async (app) => {
    await app.register(phoneRoutes, { phone, authenticate, devSink });
  };
}

function smsSenderOf(
  sms: SmsConfig,
  mode: "embedded" | "distributed",
  deps: IdentityDeps,
): SmsSender | undefined {
  const provider = sms.provider ?? (mode === "embedded" ? "dev" : undefined);
  if (provider === "dev") return createDevSmsSink(deps.logger, () => deps.clock.nowMs());
  if (provider === undefined) return undefined;
  if (sms.url === undefined || sms.secret === undefined)
    throw new Error("sms.provider http needs LEDGERFLOW_SMS_URL and LEDGERFLOW_SMS_SECRET");
  return createHttpSmsSender({ url: sms.url, secret: sms.secret, timeoutMs: sms.timeoutMs });
}

/** Authentication events, the revocation set and the sessions service. */
async function startSessions(deps: IdentityDeps, tokens: AccessTokens, users: UserStore) {
  const events = createLogAuthEvents(
    deps.log.producer(),
    await createTopicCodec(deps.registry, identityTopics.identityEvents),
    deps.logger,
  );
  const revocations = await startRevocations(deps);
  const sessions = createSessions({
    ...{ users, tokens, revocations, events, clock: deps.clock, ids: deps.ids, random: deps.random },
    store: createPostgresSessionStore(deps.pool),
    refreshTokenTtlMs: deps.config.refreshTokenTtlMs,
  });
  return { events, revocations, sessions };
}

function profilesOf(deps: IdentityDeps, events: AuthEvents, community: CommunityStatsStore): Profiles {
  const previous = (deps.config.piiKeysPrevious ?? "").split(",").filter((key) => key.trim() !== "");
  const cipher = createPiiCipher(parsePiiKey(deps.piiKey), previous.map(parsePiiKey), deps.random);
  const store = createPostgresProfileStore(deps.pool);
  return createProfiles({ store, cipher, clock: deps.clock, events, community });
}

/** The profile projection of `community.events` (`identity-profiles` group), where projections run. */
async function startCommunityFeed(
  deps: IdentityDeps,
  run: ModuleRun,
  stats: CommunityStatsStore,
  stops: ReturnType<typeof stopper>,
): Promise<string[]> {
  if (!run.abilities.projections) return [];
  const feed = await runCommunityFeed({
    log: deps.log,
    codec: await createTopicCodec(deps.registry, deps.communityEvents),
    stats,
    logger: deps.logger,
    metricsRegistry: deps.metricsRegistry,
  });
  stops.add(() => feed.stop());
  feed.done.catch(run.crash);
  return ["identity.profiles-projection"];
}

/** Access tokens of a revoked session are refused at once, not only when they expire. */
function verifierWithRevocations(tokens: AccessTokens, revocations: RevocationSet): VerifyToken {
  return async (token) => {
    const verified = await tokens.verify(token);
    if (!verified.ok) return verified;
    const sessionId = verified.principal.sessionId;
    if (sessionId !== undefined && revocations.isRevoked(sessionId))
      return { ok: false, code: "token_invalid" };
    return verified;
  };
}

/**
 * Memory in embedded mode, Redis pub/sub in distributed mode (as the login limiter chooses); either
 * way preloaded with the sessions revoked recently enough for their access tokens to be alive.
 */
async function startRevocations(deps: IdentityDeps): Promise<RevocationSet> {
  const { config, clock } = deps;
  const keepMs = (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * 1000;
  const revocations =
    deps.redisUrl === undefined
      ? createMemoryRevocations(clock, keepMs)
      : await createRedisRevocations(clock, {
          url: deps.redisUrl,
          keepMs,
          onConnectionError: (error) =>
            deps.logger.warn({ err: error }, "session revocations: Redis connection failed"),
        });
  const recent = await createPostgresSessionStore(deps.pool).revokedSince(clock.nowMs() - keepMs);
  for (const sessionId of recent) revocations.remember(sessionId);
  return revocations;
}
