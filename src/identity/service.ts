import { type Clock, type IdGenerator, type Random, systemRandom } from "../platform/clock.ts";
import { assert } from "../platform/errors.ts";
import type { DeviceTrust } from "./device-trust.ts";
import { type AuthEvents, discardAuthEvents } from "./events.ts";
import type { LimitKey, LoginLimiter } from "./login-limiter.ts";
import { loginLimitKeys, uncountedOnError } from "./login-limiter.ts";
import type { PasswordHasher } from "./passwords.ts";
import { coarseIp, type IssuedSession, type Sessions } from "./sessions/sessions.ts";
import type { CreateUserResult, Role, UserStore } from "./store.ts";
import { usernameKey } from "./store.ts";
import type { AccessTokens } from "./tokens.ts";

/** Username rule, also enforced by the `users` table CHECK. ASCII only, so case folding is trivial. */
export const usernamePattern = /^[A-Za-z0-9._-]{3,64}$/;
export const usernameLengthMin = 3;
export const usernameLengthMax = 64;
/** In Unicode code points, so that a password of emoji is not cut short by UTF-16 counting. */
export const passwordLengthMin = 10;
export const passwordLengthMax = 256;

export interface PublicUser {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly Role[];
}

export interface ValidationRejection {
  readonly ok: false;
  readonly code: "validation_failed";
  readonly field: "username" | "password";
  readonly detail: string;
}

export interface RateLimited {
  readonly ok: false;
  readonly code: "rate_limited";
  readonly retryAfterS: number;
}

export type RegisterResult =
  | { readonly ok: true; readonly user: PublicUser }
  | ValidationRejection
  | { readonly ok: false; readonly code: "username_taken" }
  | RateLimited;

export type LoginResult =
  | {
      readonly ok: true;
      readonly accessToken: string;
      readonly expiresInS: number;
      readonly user: PublicUser;
      /** Proof for later logins that this client signed in before (see device-trust.ts). */
      readonly deviceToken: string;
      readonly deviceTokenExpiresInS: number;
      /** With a session store: the session and its first refresh token. */
      readonly session?: IssuedSession;
    }
  | { readonly ok: false; readonly code: "invalid_credentials" }
  | RateLimited;

export type BootstrapAdminResult =
  | { readonly ok: true; readonly created: boolean; readonly user: PublicUser }
  | ValidationRejection;

export interface LoginAttempt {
  readonly username: string;
  readonly password: string;
  /** Client address as the edge saw it (after trusted-proxy handling). */
  readonly clientIp: string;
  /** The device token the client holds (cookie or body), if any; checked, never trusted blindly. */
  readonly deviceToken?: string | undefined;
  /** The User-Agent, shown in the user's sessions list. */
  readonly device?: string | undefined;
}

export interface IdentityService {
  /**
   * With `clientIp` the registration counts against that client's registration limit (every HTTP
   * registration); without it (bootstrap, tools, tests in process) it is not limited.
   */
  register(username: string, password: string, clientIp?: string): Promise<RegisterResult>;
  login(attempt: LoginAttempt): Promise<LoginResult>;
  /** Creates the admin on first start; when the username exists (any case) leaves it untouched. */
  bootstrapAdmin(username: string, password: string): Promise<BootstrapAdminResult>;
  /**
   * Signs in a user another method has already authenticated (OpenID Connect): the same tokens a
   * password login issues. Undefined when the user does not exist.
   */
  signInAs(
    userId: string,
    client: { readonly ip: string; readonly device: string | undefined },
  ): Promise<SignedIn | undefined>;
  /**
   * A customer who signs in through a provider only: no password anyone knows (a random one is
   * hashed, so password login cannot succeed). The username is the hint, or the hint with a random
   * suffix when taken.
   */
  createPasswordlessUser(usernameHint: string): Promise<PublicUser>;
}

export type SignedIn = Extract<LoginResult, { ok: true }>;

export interface IdentityServiceDeps {
  readonly store: UserStore;
  readonly passwords: PasswordHasher;
  readonly tokens: AccessTokens;
  readonly limiter: LoginLimiter;
  readonly devices: DeviceTrust;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Draws the unusable passwords of passwordless users and the suffixes of taken usernames. */
  readonly random?: Random;
  /** Sign-in sessions with refresh tokens; without them a login yields only an access token. */
  readonly sessions?: Sessions;
  readonly events?: AuthEvents;
  /** Profiles are created at first sign-in. */
  readonly profiles?: { ensure(user: { id: string; username: string }): Promise<unknown> };
}

export function createIdentityService(deps: IdentityServiceDeps): IdentityService {
  const { store, passwords, limiter, devices, clock, ids } = deps;
  const events = deps.events ?? discardAuthEvents;

  async function createUser(username: string, password: string, roles: readonly Role[]) {
    const passwordHash = await passwords.hash(password);
    return store.createUser({ id: ids.uuid(), username, passwordHash, roles, createdAtMs: clock.nowMs() });
  }

  const signedIn = (
    user: PublicUser,
    client: { ip: string; device: string | undefined },
    audit: { username: string; clientIp: string; atMs: number },
  ) => signedInAnswer(deps, events, user, client, audit);

  return {
    async register(username, password, clientIp) {
      const invalid = validateCredentials(username, password);
      if (invalid !== undefined) return invalid;
      // Counted before anything else costs: a taken name too, so names cannot be probed in bulk.
      const keys: LimitKey[] = clientIp === undefined ? [] : [{ scope: "registration", id: clientIp }];
      const retryAfterS = await limiter.admit(keys);
      if (retryAfterS > 0) return { ok: false, code: "rate_limited", retryAfterS };
      // Checked first so that a taken name costs a lookup, not an argon2 hash; the unique index
      // still decides when two registrations race.
      if ((await store.findByUsername(username)) !== undefined) return { ok: false, code: "username_taken" };
      const created = await uncountedOnError(limiter, keys, () =>
        createUser(username, password, ["customer"]),
      );
      return created.ok ? { ok: true, user: publicUser(created.user) } : created;
    },

    async login({ username, password, clientIp, deviceToken, device }) {
      const name = usernameKey(username);
      const deviceId = devices.deviceIdOf(deviceToken, name);
      const keys = loginLimitKeys({ username: name, client: clientIp, deviceId });
      const retryAfterS = await limiter.admit(keys);
      if (retryAfterS > 0) return { ok: false, code: "rate_limited", retryAfterS };
      // Every path below costs one argon2 verification, so timing tells nothing about which
      // usernames exist or are well formed.
      const candidate = [...password].length <= passwordLengthMax ? password : "";
      const { user, verified } = await uncountedOnError(limiter, keys, async () => {
        const found = usernamePattern.test(username) ? await store.findByUsername(username) : undefined;
        return { user: found, verified: await passwords.verify(found?.passwordHash, candidate) };
      });
      const audit = { username, clientIp: coarseIp(clientIp), atMs: clock.nowMs() };
      if (user === undefined || !verified || candidate !== password) {
        await events.publish({ kind: "login_failed", ...audit, userId: user?.id });
        return { ok: false, code: "invalid_credentials" };
      }
      await limiter.forgive(keys);
      return signedIn(user, { ip: clientIp, device }, audit);
    },

    async signInAs(userId, client) {
      const user = await store.findById(userId);
      if (user === undefined) return undefined;
      const audit = { username: user.username, clientIp: coarseIp(client.ip), atMs: clock.nowMs() };
      return signedIn(user, client, audit);
    },

    createPasswordlessUser: (usernameHint) =>
      createPasswordlessUser(deps.random ?? systemRandom, usernameHint, (username, password) =>
        createUser(username, password, ["customer"]),
      ),

    bootstrapAdmin: (username, password) => bootstrapAdmin(store, createUser, username, password),
  };
}

/**
 * What every successful sign-in answers, whichever method authenticated the user (password, or a
 * provider's ticket): a session (or a bare access token), the device token, the audit event.
 */
async function signedInAnswer(
  deps: IdentityServiceDeps,
  events: AuthEvents,
  user: PublicUser,
  client: { ip: string; device: string | undefined },
  audit: { username: string; clientIp: string; atMs: number },
): Promise<SignedIn> {
  await deps.profiles?.ensure(user);
  const session = await deps.sessions?.start(user, client);
  const issued = session ?? (await deps.tokens.issue(user));
  await events.publish({ kind: "login_succeeded", ...audit, userId: user.id, sessionId: session?.sessionId });
  const name = usernameKey(user.username);
  return {
    ok: true,
    accessToken: issued.accessToken,
    expiresInS: issued.expiresInS,
    ...(session === undefined ? {} : { session }),
    user: publicUser(user),
    // A fresh one every time: the expiry rolls forward while the device keeps signing in.
    deviceToken: deps.devices.issue(name),
    deviceTokenExpiresInS: Math.floor(deps.devices.ttlMs / 1000),
  };
}

async function createPasswordlessUser(
  random: Random,
  usernameHint: string,
  createUser: (username: string, password: string) => Promise<CreateUserResult>,
): Promise<PublicUser> {
  const password = Buffer.from(random.bytes(32)).toString("base64url");
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const suffix = attempt === 0 ? "" : `-${Buffer.from(random.bytes(3)).toString("hex")}`;
    const created = await createUser(`${usernameHint.slice(0, 57)}${suffix}`, password);
    if (created.ok) return publicUser(created.user);
  }
  throw new Error("no free username for a new federated user after 5 tries");
}

/** Creates the admin on first start; when the username exists (any case) leaves it untouched. */
async function bootstrapAdmin(
  store: UserStore,
  createUser: (username: string, password: string, roles: readonly Role[]) => Promise<CreateUserResult>,
  username: string,
  password: string,
): Promise<BootstrapAdminResult> {
  const invalid = validateCredentials(username, password);
  if (invalid !== undefined) return invalid;
  const existing = await store.findByUsername(username);
  if (existing !== undefined) return { ok: true, created: false, user: publicUser(existing) };
  const created = await createUser(username, password, ["admin"]);
  if (created.ok) return { ok: true, created: true, user: publicUser(created.user) };
  // Another node bootstrapped the same admin between our lookup and insert.
  const winner = await store.findByUsername(username);
  assert(winner !== undefined, "a username reported taken can be found");
  return { ok: true, created: false, user: publicUser(winner) };
}

/** An attempt that never got its password checked (hashing queue full, store down) is not counted. */

export function validateCredentials(username: string, password: string): ValidationRejection | undefined {
  if (username.length < usernameLengthMin || username.length > usernameLengthMax) {
    return reject("username", `must be ${usernameLengthMin} to ${usernameLengthMax} characters`);
  }
  if (!usernamePattern.test(username)) return reject("username", "may contain only A-Z a-z 0-9 . _ -");
  if (!password.isWellFormed()) return reject("password", "must be valid Unicode (no lone surrogates)");
  const codePoints = [...password].length;
  if (codePoints < passwordLengthMin || codePoints > passwordLengthMax) {
    return reject("password", `must be ${passwordLengthMin} to ${passwordLengthMax} characters`);
  }
  return undefined;
}

function reject(field: "username" | "password", detail: string): ValidationRejection {
  return { ok: false, code: "validation_failed", field, detail };
}

function publicUser(user: PublicUser): PublicUser {
  return { id: user.id, username: user.username, roles: user.roles };
}
