/**
 * Passkeys through SimpleWebAuthn: registering one for the signed-in user, listing and removing
 * them, and signing in with one (then `IdentityService.signInAs`, the sign-in path every method
 * shares, so sessions, profiles and events apply). Challenges are stored server-side, single use
 * and short-lived; every refusal is audited.
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Clock, Random } from "../../platform/clock.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import type { AuthEvents } from "../events.ts";
import { attemptFromClient, type LoginLimiter } from "../login-limiter.ts";
import type { AuthAudit } from "../oidc/audit.ts";
import type { IdentityService, PublicUser, SignedIn } from "../service.ts";
import { coarseIp } from "../sessions/sessions.ts";
import type { PasskeysConfig } from "./config.ts";
import {
  type AssertionRefusal,
  assertionFits,
  challengeIn,
  counterAccepted,
  type RelyingParty,
} from "./decisions.ts";
import type { PasskeyStore, StoredPasskey } from "./store.ts";

export interface PasskeysDeps {
  readonly config: PasskeysConfig;
  readonly store: PasskeyStore;
  readonly identity: Pick<IdentityService, "signInAs">;
  readonly users: {
    byId(id: string): Promise<PublicUser | undefined>;
    byUsername(name: string): Promise<PublicUser | undefined>;
  };
  readonly events: AuthEvents;
  readonly audit: AuthAudit;
  readonly clock: Clock;
  readonly random: Random;
  /**
   * Failed sign-ins count against the client address, as failed passwords do (one budget): a
   * passkey cannot be guessed, but each attempt costs a lookup and a signature check, so a client
   * cannot make unlimited ones. Absent in unit tests of other parts.
   */
  readonly limiter?: Pick<LoginLimiter, "admit" | "forgive">;
}

export interface Client {
  readonly ip: string;
  readonly device: string | undefined;
}

export type RegisterRefusal =
  | "challenge_unknown"
  | "registration_invalid"
  | "passkey_exists"
  | "passkeys_max";
export type SignInRefusal = AssertionRefusal | "assertion_invalid" | "counter_invalid" | "user_unknown";

/** A verified assertion: whose passkey signed which challenge. */
export interface VerifiedAssertion {
  readonly userId: string;
  readonly credentialId: string;
  /** What the challenge was bound to (step-up), if anything. */
  readonly binding?: string | undefined;
}

export interface Passkeys {
  registrationOptions(user: PublicUser, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON>;
  register(
    userId: string,
    response: RegistrationResponseJSON,
    rp: RelyingParty,
    client: Client,
  ): Promise<{ ok: true; passkey: StoredPasskey } | { ok: false; code: RegisterRefusal }>;
  list(userId: string): Promise<readonly StoredPasskey[]>;
  remove(userId: string, id: string, client: Client): Promise<boolean>;
  /** Options for a sign-in; naming a user restricts it to that user's passkeys. */
  signInOptions(rp: RelyingParty, username?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  signIn(response: AuthenticationResponseJSON, rp: RelyingParty, client: Client): Promise<SignInAnswer>;
}

export type SignInAnswer =
  | { ok: true; signedIn: SignedIn }
  | { ok: false; code: SignInRefusal }
  | { ok: false; code: "rate_limited"; retryAfterS: number };

export function createPasskeys(deps: PasskeysDeps): Passkeys {
  const { config, store, clock } = deps;
  const newChallenge = async (purpose: "register" | "sign_in", userId: string | undefined) =>
    issueChallenge(deps, purpose, userId);
  return {
    async registrationOptions(user, rp) {
      const existing = await store.ofUser(user.id);
      return generateRegistrationOptions({
        rpName: config.rpName,
        rpID: rp.id,
        userName: user.username,
        userID: new TextEncoder().encode(user.id),
        challenge: await newChallenge("register", user.id),
        attestationType: "none",
        excludeCredentials: existing.map((p) => ({ id: p.id, transports: transportsOf(p) })),
        authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
        timeout: config.challengeTtlMs,
      });
    },
    register: (userId, response, rp, client) => register(deps, userId, response, rp, client),
    list: (userId) => store.ofUser(userId),
    async remove(userId, id, client) {
      const removed = await store.remove(userId, id);
      if (removed)
        await deps.events.publish({
          kind: "passkey_removed",
          userId,
          clientIp: coarseIp(client.ip),
          detail: id.slice(0, 64),
          atMs: clock.nowMs(),
        });
      return removed;
    },
    async signInOptions(rp, username) {
      const user = username === undefined ? undefined : await deps.users.byUsername(username);
      const allowed = user === undefined ? [] : await store.ofUser(user.id);
      // A named user who does not exist gets an unbound challenge and no allowed passkeys: the
      // answer does not tell which usernames exist.
      return generateAuthenticationOptions({
        rpID: rp.id,
        challenge: await newChallenge("sign_in", user?.id),
        allowCredentials: allowed.map((p) => ({ id: p.id, transports: transportsOf(p) })),
        userVerification: "preferred",
        timeout: config.challengeTtlMs,
      });
    },
    signIn: (response, rp, client) => signIn(deps, response, rp, client),
  };
}

/** A fresh challenge of `purpose`, stored as the browser will echo it (base64url). */
export async function issueChallenge(
  deps: Pick<PasskeysDeps, "store" | "clock" | "random" | "config">,
  purpose: "register" | "sign_in" | "step_up",
  userId: string | undefined,
  binding?: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const nowMs = deps.clock.nowMs();
  await deps.store.purgeExpired(nowMs);
  if ((await deps.store.liveCount(nowMs)) >= deps.config.challengesLiveMax)
    throw new ProblemError("busy", { detail: "Too many passkey ceremonies in progress; try again shortly" });
  const bytes = deps.random.bytes(32) as Uint8Array<ArrayBuffer>;
  // The library is given the bytes: a string it would encode once more.
  const text = Buffer.from(bytes).toString("base64url");
  await deps.store.saveChallenge(text, purpose, userId, nowMs + deps.config.challengeTtlMs, binding);
  return bytes;
}

type Transports = NonNullable<RegistrationResponseJSON["response"]["transports"]>;
export const transportsOf = (passkey: StoredPasskey) => passkey.transports as Transports;

async function register(
  deps: PasskeysDeps,
  userId: string,
  response: RegistrationResponseJSON,
  rp: RelyingParty,
  client: Client,
): Promise<{ ok: true; passkey: StoredPasskey } | { ok: false; code: RegisterRefusal }> {
  const { store, clock } = deps;
  const refuse = async (code: RegisterRefusal) => {
    await deps.audit.record({
      kind: "passkey.register",
      outcome: "refused",
      userId,
      reason: code,
      clientIp: coarseIp(client.ip),
    });
    return { ok: false as const, code };
  };
  const challenge = challengeIn(response.response?.clientDataJSON);
  const claimed =
    challenge === undefined ? undefined : await store.claimChallenge(challenge, "register", clock.nowMs());
  if (challenge === undefined || claimed === undefined || claimed.userId !== userId)
    return refuse("challenge_unknown");
  if ((await store.countOf(userId)) >= deps.config.perUserMax) return refuse("passkeys_max");
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: false,
  }).catch(() => undefined);
  if (!verification?.verified) return refuse("registration_invalid");
  const { credential } = verification.registrationInfo;
  const passkey = {
    id: credential.id,
    userId,
    publicKey: credential.publicKey,
    counter: credential.counter,
    transports: credential.transports ?? [],
    createdAtMs: clock.nowMs(),
  };
  if (!(await store.add(passkey))) return refuse("passkey_exists");
  await deps.events.publish({
    kind: "passkey_registered",
    userId,
    clientIp: coarseIp(client.ip),
    detail: passkey.id.slice(0, 64),
    atMs: clock.nowMs(),
  });
  await deps.audit.record({
    kind: "passkey.register",
    outcome: "succeeded",
    userId,
    clientIp: coarseIp(client.ip),
  });
  return { ok: true, passkey: { ...passkey, lastUsedAtMs: undefined } };
}

/**
 * Verifies an assertion against a claimed challenge of `purpose`: the challenge is used up first,
 * then the credential must fit it, the signature verify and the counter rise.
 */
export async function verifyAssertion(
  deps: Pick<PasskeysDeps, "store" | "clock">,
  response: AuthenticationResponseJSON,
  rp: RelyingParty,
  purpose: "sign_in" | "step_up" = "sign_in",
): Promise<{ ok: true; assertion: VerifiedAssertion } | { ok: false; code: SignInRefusal; userId?: string }> {
  const { store, clock } = deps;
  const challenge = challengeIn(response.response?.clientDataJSON);
  const claimed =
    challenge === undefined ? undefined : await store.claimChallenge(challenge, purpose, clock.nowMs());
  const credential =
    typeof response.id === "string" && response.id.length <= 1400 ? await store.byId(response.id) : undefined;
  const misfit = assertionFits(claimed, credential);
  if (misfit !== undefined || challenge === undefined || credential === undefined)
    return { ok: false, code: misfit ?? "challenge_unknown", userId: credential?.userId };
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    credential: {
      id: credential.id,
      publicKey: credential.publicKey as Uint8Array<ArrayBuffer>,
      counter: credential.counter,
      transports: transportsOf(credential),
    },
    requireUserVerification: false,
  }).catch(() => undefined);
  if (!verification?.verified) return { ok: false, code: "assertion_invalid", userId: credential.userId };
  const newCounter = verification.authenticationInfo.newCounter;
  if (
    !counterAccepted(credential.counter, newCounter) ||
    !(await store.advanceCounter(credential.id, credential.counter, newCounter, clock.nowMs()))
  )
    return { ok: false, code: "counter_invalid", userId: credential.userId };
  return {
    ok: true,
    assertion: { userId: credential.userId, credentialId: credential.id, binding: claimed?.binding },
  };
}

async function signIn(
  deps: PasskeysDeps,
  response: AuthenticationResponseJSON,
  rp: RelyingParty,
  client: Client,
): Promise<SignInAnswer> {
  const attempt = await attemptFromClient(
    deps.limiter,
    client.ip,
    () => verifiedSignIn(deps, response, rp, client),
    (answer) => answer.ok,
  );
  return "answer" in attempt
    ? attempt.answer
    : { ok: false, code: "rate_limited", retryAfterS: attempt.refusedForS };
}

async function verifiedSignIn(
  deps: PasskeysDeps,
  response: AuthenticationResponseJSON,
  rp: RelyingParty,
  client: Client,
): Promise<{ ok: true; signedIn: SignedIn } | { ok: false; code: SignInRefusal }> {
  const verified = await verifyAssertion(deps, response, rp);
  const signedIn = verified.ok ? await deps.identity.signInAs(verified.assertion.userId, client) : undefined;
  if (verified.ok && signedIn !== undefined) {
    await deps.audit.record({
      kind: "passkey.sign_in",
      outcome: "succeeded",
      userId: verified.assertion.userId,
      clientIp: coarseIp(client.ip),
    });
    return { ok: true, signedIn };
  }
  const code = verified.ok ? "user_unknown" : verified.code;
  const userId = verified.ok ? verified.assertion.userId : verified.userId;
  await deps.audit.record({
    kind: "passkey.sign_in",
    outcome: "refused",
    userId,
    reason: code,
    clientIp: coarseIp(client.ip),
  });
  await deps.events.publish({
    kind: "login_failed",
    userId,
    clientIp: coarseIp(client.ip),
    detail: `passkey: ${code}`,
    atMs: deps.clock.nowMs(),
  });
  return { ok: false, code };
}
