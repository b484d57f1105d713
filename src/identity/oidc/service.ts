/**
 * Sign-in with OpenID Connect providers: the authorization code flow with PKCE (S256), state and
 * nonce, through openid-client (a certified relying party). The flow's secrets stay in the database
 * (store.ts); the browser carries a random flow id in an httpOnly cookie. After the callback the
 * user gets the same tokens a password login issues (IdentityService.signInAs), through a one-time
 * ticket the web app exchanges, so no token ever travels in a URL.
 *
 * ID tokens are checked by openid-client (issuer, audience, expiry, nonce, algorithm) and, beyond
 * what the specification requires of a token fetched over TLS, their signature against the
 * provider's keys (enableNonRepudiationChecks): a token forged on the way is refused too.
 */
import * as client from "openid-client";
import type { Clock, Random } from "../../platform/clock.ts";
import { attemptFromClient, type LoginLimiter } from "../login-limiter.ts";
import type { IdentityService, SignedIn } from "../service.ts";
import type { AuthAudit } from "./audit.ts";
import { isLoopbackHost, type OidcConfig, type ResolvedProvider } from "./config.ts";
import { decideLinking, isEmailVerified, usernameHintOf } from "./linking.ts";
import type { OidcStore } from "./store.ts";

/** Why a sign-in through a provider was refused: stable words for the problem and the audit. */
export type OidcFailure =
  | "unknown_provider"
  | "no_flow"
  | "provider_mismatch"
  | "state_mismatch"
  | "provider_error"
  | "code_rejected"
  | "nonce_mismatch"
  | "issuer_mismatch"
  | "audience_mismatch"
  | "id_token_expired"
  | "id_token_invalid"
  | "email_not_verified";

/** Inside the service only: a refusal leaves it as a returned CallbackResult. */
class OidcSignInError extends Error {
  readonly reason: OidcFailure;
  constructor(reason: OidcFailure, options?: ErrorOptions) {
    super(`OpenID Connect sign-in refused: ${reason}`, options);
    this.name = "OidcSignInError";
    this.reason = reason;
  }
}

export interface ProviderSummary {
  readonly id: string;
  readonly displayName: string;
}

export interface CallbackInput {
  readonly providerId: string;
  readonly flowId: string | undefined;
  /** The callback as the provider sent it: a GET URL, or (form_post) a POST with its form body. */
  readonly request: Request;
  readonly clientIp: string;
}

export type CallbackResult =
  | { readonly ok: true; readonly ticket: string; readonly userId: string }
  | { readonly ok: false; readonly reason: OidcFailure };

export interface OidcService {
  providers(): readonly ProviderSummary[];
  /** The provider's authorization URL and the flow id for the cookie; undefined for an unknown provider. */
  start(providerId: string, redirectUri: string): Promise<{ url: string; flowId: string } | undefined>;
  /**
   * Finishes the flow: the one-time ticket to exchange, or why it was refused (audited). Throws
   * only when the provider cannot be reached.
   */
  callback(input: CallbackInput): Promise<CallbackResult>;
  /** The ticket's tokens, once; undefined for an unknown, used or expired ticket. */
  /** Tokens for a ticket; undefined for an unknown, used or expired one. */
  exchange(ticket: string, client: { ip: string; device: string | undefined }): Promise<ExchangeAnswer>;
}

export interface OidcServiceDeps {
  readonly config: OidcConfig;
  readonly providers: readonly ResolvedProvider[];
  readonly store: OidcStore;
  readonly identity: IdentityService;
  readonly audit: AuthAudit;
  readonly clock: Clock;
  readonly random: Random;
  /**
   * Refused ticket exchanges count against the client address on the login limiter's budget: a
   * ticket cannot be guessed, but each try costs a lookup and an audit row. Absent in unit tests.
   */
  readonly limiter?: Pick<LoginLimiter, "admit" | "forgive">;
}

export type ExchangeAnswer =
  | { readonly ok: true; readonly signedIn: SignedIn }
  | { readonly ok: false; readonly code: "ticket_unknown" }
  | { readonly ok: false; readonly code: "rate_limited"; readonly retryAfterS: number };

/** What the service's parts share: its dependencies plus provider lookup and discovery. */
interface Context extends OidcServiceDeps {
  providerOf(providerId: string): ResolvedProvider | undefined;
  configurationOf(provider: ResolvedProvider): Promise<client.Configuration>;
  randomToken(): string;
}

export function createOidcService(deps: OidcServiceDeps): OidcService {
  const byId = new Map(deps.providers.map((provider) => [provider.id, provider]));
  const discovered = new Map<string, Promise<client.Configuration>>();
  const context: Context = {
    ...deps,
    providerOf: (providerId) => byId.get(providerId),
    // Discovery once per provider; a failed discovery is tried again by the next sign-in.
    configurationOf(provider) {
      let found = discovered.get(provider.id);
      if (found === undefined) {
        found = discover(provider, deps.config).catch((error: unknown) => {
          discovered.delete(provider.id);
          throw error;
        });
        discovered.set(provider.id, found);
      }
      return found;
    },
    randomToken: () => Buffer.from(deps.random.bytes(32)).toString("base64url"),
  };
  return {
    providers: () => deps.providers.map(({ id, displayName }) => ({ id, displayName })),
    start: (providerId, redirectUri) => startFlow(context, providerId, redirectUri),
    callback: (input) => callback(context, input),
    exchange: (ticket, client) => exchange(context, ticket, client),
  };
}

async function startFlow(context: Context, providerId: string, redirectUri: string) {
  const provider = context.providerOf(providerId);
  if (provider === undefined) return undefined;
  const configuration = await context.configurationOf(provider);
  const { randomToken } = context;
  const flow = { providerId, state: randomToken(), nonce: randomToken(), codeVerifier: randomToken() };
  const flowId = randomToken();
  await context.store.saveFlow(flowId, flow, context.clock.nowMs() + context.config.flowTtlMs);
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: redirectUri,
    scope: provider.scopes.join(" "),
    code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
    code_challenge_method: "S256",
    state: flow.state,
    nonce: flow.nonce,
    ...(provider.responseMode === "form_post" ? { response_mode: "form_post" } : {}),
  });
  return { url: url.href, flowId };
}

async function callback(context: Context, input: CallbackInput): Promise<CallbackResult> {
  try {
    return { ok: true, ...(await finishSignIn(context, input)) };
  } catch (error) {
    const refused = error instanceof OidcSignInError ? error : classify(error);
    if (refused === undefined) throw error;
    // A provider that does not exist is a 404 like any unknown path, not an authentication event.
    if (refused.reason === "unknown_provider") return { ok: false, reason: refused.reason };
    await context.audit.record({
      kind: "oidc.sign_in",
      outcome: "refused",
      providerId: input.providerId,
      reason: refused.reason,
      clientIp: input.clientIp,
    });
    return { ok: false, reason: refused.reason };
  }
}

async function exchange(
  context: Context,
  ticket: string,
  client: { ip: string; device: string | undefined },
): Promise<ExchangeAnswer> {
  const attempt = await attemptFromClient(
    context.limiter,
    client.ip,
    () => exchangeTicket(context, ticket, client),
    (signedIn) => signedIn !== undefined,
  );
  if (!("answer" in attempt)) return { ok: false, code: "rate_limited", retryAfterS: attempt.refusedForS };
  return attempt.answer === undefined
    ? { ok: false, code: "ticket_unknown" }
    : { ok: true, signedIn: attempt.answer };
}

async function exchangeTicket(
  context: Context,
  ticket: string,
  client: { ip: string; device: string | undefined },
): Promise<SignedIn | undefined> {
  const clientIp = client.ip;
  const userId = await context.store.takeTicket(ticket, context.clock.nowMs());
  const signedIn = userId === undefined ? undefined : await context.identity.signInAs(userId, client);
  await context.audit.record({
    kind: "oidc.ticket_exchange",
    outcome: signedIn ? "succeeded" : "refused",
    userId,
    reason: signedIn ? undefined : "ticket_unknown",
    clientIp,
  });
  return signedIn;
}

async function finishSignIn(
  context: Context,
  input: CallbackInput,
): Promise<{ ticket: string; userId: string }> {
  const { store, clock } = context;
  const provider = context.providerOf(input.providerId);
  if (provider === undefined) throw new OidcSignInError("unknown_provider");
  const flow = input.flowId === undefined ? undefined : await store.takeFlow(input.flowId, clock.nowMs());
  if (flow === undefined) throw new OidcSignInError("no_flow");
  if (flow.providerId !== provider.id) throw new OidcSignInError("provider_mismatch");
  // openid-client compares the state too; checked here first so the refusal names its cause.
  if ((await stateOf(input.request)) !== flow.state) throw new OidcSignInError("state_mismatch");
  const configuration = await context.configurationOf(provider);
  const tokens = await client.authorizationCodeGrant(configuration, input.request, {
    pkceCodeVerifier: flow.codeVerifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (claims === undefined) throw new OidcSignInError("id_token_invalid");
  const userId = await userFor(context, provider, claims, input.clientIp);
  const ticket = context.randomToken();
  await store.saveTicket(ticket, userId, clock.nowMs() + context.config.ticketTtlMs);
  return { ticket, userId };
}

async function userFor(
  context: Context,
  provider: ResolvedProvider,
  claims: client.IDToken,
  clientIp: string,
): Promise<string> {
  const { store, clock, audit } = context;
  const { iss: issuer, sub: subject } = claims;
  const email = typeof claims.email === "string" ? claims.email.toLowerCase() : undefined;
  const federated = { issuer, subject, email, emailVerified: isEmailVerified(claims.email_verified) };
  const decision = decideLinking(federated, {
    linkedUserId: await store.linkedUserOf(issuer, subject),
    emailOwnerId: email === undefined ? undefined : await store.verifiedEmailOwnerOf(email),
  });
  const event = { kind: "oidc.sign_in", providerId: provider.id, clientIp } as const;
  if (decision.kind === "refuse") throw new OidcSignInError(decision.reason);
  if (decision.kind === "sign_in") {
    await store.touch(issuer, subject, clock.nowMs());
    await audit.record({ ...event, outcome: "succeeded", userId: decision.userId, reason: "returning" });
    return decision.userId;
  }
  const preferredUsername =
    typeof claims.preferred_username === "string" ? claims.preferred_username : undefined;
  const userId =
    decision.kind === "link"
      ? decision.userId
      : (await context.identity.createPasswordlessUser(usernameHintOf({ email, preferredUsername }))).id;
  const verifiedEmail = decision.kind === "link" ? decision.email : decision.verifiedEmail;
  const linked = await store.link({
    issuer,
    subject,
    userId,
    providerId: provider.id,
    verifiedEmail,
    nowMs: clock.nowMs(),
  });
  const reason = decision.kind === "link" ? "linked" : "created";
  await audit.record({ ...event, outcome: "succeeded", userId: linked, reason });
  return linked;
}

async function discover(provider: ResolvedProvider, config: OidcConfig): Promise<client.Configuration> {
  const issuer = new URL(provider.issuer);
  const configuration = await client.discovery(
    issuer,
    provider.clientId,
    { id_token_signed_response_alg: "RS256", [client.clockTolerance]: config.clockToleranceSeconds },
    client.ClientSecretBasic(provider.clientSecret),
    {
      timeout: Math.ceil(config.httpTimeoutMs / 1000),
      // Plain http only to a provider on this machine (config.ts refuses other http issuers).
      ...(issuer.protocol === "http:" && isLoopbackHost(issuer.hostname)
        ? { execute: [client.allowInsecureRequests] }
        : {}),
    },
  );
  client.enableNonRepudiationChecks(configuration);
  return configuration;
}

async function stateOf(request: Request): Promise<string | null> {
  if (request.method === "POST") return new URLSearchParams(await request.clone().text()).get("state");
  return new URL(request.url).searchParams.get("state");
}

/** The refusal an openid-client error stands for; undefined for a failure to reach the provider. */
function classify(error: unknown): OidcSignInError | undefined {
  if (error instanceof client.AuthorizationResponseError)
    return new OidcSignInError("provider_error", { cause: error });
  if (error instanceof client.ResponseBodyError)
    return new OidcSignInError("code_rejected", { cause: error });
  if (!(error instanceof client.ClientError)) return undefined;
  // openid-client wraps oauth4webapi's error, whose cause names the claim that failed.
  const inner = error.cause as { claim?: unknown; cause?: { claim?: unknown } } | undefined;
  const found = inner?.claim ?? inner?.cause?.claim;
  const claim = typeof found === "string" ? found : undefined;
  if (error.code === "OAUTH_JWT_TIMESTAMP_CHECK_FAILED")
    return new OidcSignInError("id_token_expired", { cause: error });
  if (error.code === "OAUTH_JWT_CLAIM_COMPARISON_FAILED") {
    if (claim === "nonce") return new OidcSignInError("nonce_mismatch", { cause: error });
    if (claim === "iss") return new OidcSignInError("issuer_mismatch", { cause: error });
    if (claim === "aud" || claim === "azp") return new OidcSignInError("audience_mismatch", { cause: error });
  }
  if (error.code === "OAUTH_TIMEOUT" || error.code === "OAUTH_ABORT") return undefined;
  return new OidcSignInError("id_token_invalid", { cause: error });
}
