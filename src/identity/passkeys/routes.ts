/**
 * `/v1/me/passkeys` (register, list, remove the caller's passkeys) and `/v1/auth/passkeys` (sign in
 * with one). The relying party is the public URL's, or the request's loopback host (decisions.ts).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { amountInput, amountOrFail } from "../../ledger/index.ts";
import { UnavailableError } from "../../platform/errors.ts";
import { type PreHandler, principalOf } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { sendSignedIn, tokenResponse } from "../routes.ts";
import type { PublicUser } from "../service.ts";
import { refreshTokenIn } from "../sessions/routes.ts";
import { type RelyingParty, relyingPartyOf } from "./decisions.ts";
import type { Passkeys } from "./service.ts";
import type { StepUp } from "./step-up.ts";

export interface PasskeyRoutesOptions {
  readonly passkeys: Passkeys;
  readonly authenticate: PreHandler;
  readonly users: { byId(id: string): Promise<PublicUser | undefined> };
  readonly publicUrl: string | undefined;
  readonly stepUp: StepUp;
}

const bodyBytesMax = 32 * 1024;
const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/);

/** A browser's PublicKeyCredential as JSON (SimpleWebAuthn checks the rest). */
const credentialJson = (response: z.ZodType) =>
  z.object({
    id: b64url.min(1).max(1_400),
    rawId: b64url.min(1).max(1_400),
    type: z.literal("public-key"),
    response,
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  });

export const registrationJson = credentialJson(
  z
    .object({
      clientDataJSON: b64url,
      attestationObject: b64url,
      transports: z.array(z.string().max(32)).max(8).optional(),
    })
    .loose(),
);

export const assertionJson = credentialJson(
  z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
);

const options = z
  .record(z.string(), z.unknown())
  .describe("PublicKeyCredential options (WebAuthn JSON), for navigator.credentials");

const passkeyView = z.object({
  id: z.string(),
  transports: z.array(z.string()),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().optional(),
});

const secured = { tags: ["identity"], security: [{ bearer: [] }] };

export function relyingPartyFor(request: FastifyRequest, publicUrl: string | undefined): RelyingParty {
  const rp = relyingPartyOf(publicUrl, { protocol: request.protocol, host: request.headers.host });
  if (rp === undefined) throw new UnavailableError("passkeys (set LEDGERFLOW_PUBLIC_URL: the site's origin)");
  return rp;
}

const clientOf = (request: FastifyRequest) => ({ ip: request.ip, device: request.headers["user-agent"] });

export async function passkeyRoutes(app: FastifyInstance, opts: PasskeyRoutesOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  registrationRoutes(app, opts);
  listRoutes(app, opts);
  signInRoutes(app, opts);
  stepUpRoute(app, opts);
}

function stepUpRoute(root: FastifyInstance, opts: PasskeyRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/me/passkeys/step-up/options",
    {
      bodyLimit: 4 * 1024,
      schema: {
        ...secured,
        summary: "Options to confirm one transfer with a passkey (a challenge bound to it)",
        description:
          "Sign them with navigator.credentials.get and send POST /v1/transfers with the same id, to, amount and asset and the header Passkey-Assertion: base64url(JSON of the credential).",
        body: z.strictObject({
          transferId: z.uuid(),
          to: z.string().min(5).max(64),
          // As the transfer itself takes it (a string, or a plain JSON integer).
          amount: amountInput,
          asset: z.string().regex(/^[A-Z]{3,12}$/),
        }),
        response: { 200: options },
      },
      preHandler: opts.authenticate,
      config: { access: { roles: "any", owner: true } },
    },
    async (request) => {
      const { transferId, to, amount, asset } = request.body;
      const transfer = {
        userId: principalOf(request).userId,
        transferId,
        to,
        amount: amountOrFail(amount, "amount"),
        asset,
      };
      return { ...(await opts.stepUp.options(transfer, relyingPartyFor(request, opts.publicUrl))) };
    },
  );
}

function registrationRoutes(root: FastifyInstance, opts: PasskeyRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/me/passkeys/options",
    {
      schema: {
        ...secured,
        summary: "Options to create a passkey for the caller (a fresh challenge)",
        response: { 200: options },
      },
      preHandler: opts.authenticate,
      config: { access: { roles: "any", owner: true } },
    },
    async (request) => {
      const user = await opts.users.byId(principalOf(request).userId);
      if (user === undefined) throw new ProblemError("unauthenticated");
      return {
        ...(await opts.passkeys.registrationOptions(user, relyingPartyFor(request, opts.publicUrl))),
      };
    },
  );
  routes.post(
    "/v1/me/passkeys",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        ...secured,
        summary: "Register a passkey: the browser's answer to the options",
        body: registrationJson,
        response: { 201: passkeyView },
      },
      preHandler: opts.authenticate,
      config: {
        access: { roles: "any", owner: true },
        openapi: { problems: ["passkey_registration_failed"] },
      },
    },
    async (request, reply) => {
      const rp = relyingPartyFor(request, opts.publicUrl);
      const result = await opts.passkeys.register(
        principalOf(request).userId,
        request.body as never,
        rp,
        clientOf(request),
      );
      if (!result.ok)
        throw new ProblemError("passkey_registration_failed", { extra: { reason: result.code } });
      return reply.code(201).send(viewOf(result.passkey));
    },
  );
}

function viewOf(passkey: {
  id: string;
  transports: readonly string[];
  createdAtMs: number;
  lastUsedAtMs: number | undefined;
}) {
  return {
    id: passkey.id,
    transports: [...passkey.transports],
    createdAt: new Date(passkey.createdAtMs).toISOString(),
    ...(passkey.lastUsedAtMs === undefined
      ? {}
      : { lastUsedAt: new Date(passkey.lastUsedAtMs).toISOString() }),
  };
}

function listRoutes(root: FastifyInstance, opts: PasskeyRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/me/passkeys",
    {
      schema: {
        ...secured,
        summary: "The caller's passkeys",
        response: { 200: z.object({ items: z.array(passkeyView) }) },
      },
      preHandler: opts.authenticate,
      config: { access: { roles: "any", owner: true } },
    },
    async (request) => ({ items: (await opts.passkeys.list(principalOf(request).userId)).map(viewOf) }),
  );
  routes.delete(
    "/v1/me/passkeys/:id",
    {
      schema: {
        ...secured,
        summary: "Remove one of the caller's passkeys",
        params: z.object({ id: b64url.min(1).max(1_400) }),
      },
      preHandler: opts.authenticate,
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
    },
    async (request, reply) => {
      const removed = await opts.passkeys.remove(
        principalOf(request).userId,
        request.params.id,
        clientOf(request),
      );
      if (!removed) throw new ProblemError("not_found", { detail: "No such passkey of yours" });
      return reply.code(204).send();
    },
  );
}

function signInRoutes(root: FastifyInstance, opts: PasskeyRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/auth/passkeys/options",
    {
      bodyLimit: 4 * 1024,
      schema: {
        tags: ["identity"],
        summary: "Options to sign in with a passkey (a fresh, single-use challenge)",
        description: "Without a username any discoverable passkey of this site may answer.",
        // A body is required (`{}` for any passkey): the document says so and the server holds to it.
        body: z.strictObject({ username: z.string().min(1).max(64).optional() }),
        response: { 200: options },
      },
      config: { access: { anonymous: true }, openapi: { problems: ["busy"] } },
    },
    async (request) => ({
      ...(await opts.passkeys.signInOptions(relyingPartyFor(request, opts.publicUrl), request.body.username)),
    }),
  );
  routes.post(
    "/v1/auth/passkeys/verify",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        tags: ["identity"],
        summary: "Sign in with a passkey: the browser's assertion over the challenge",
        body: z.object({ credential: assertionJson, refreshTokenIn: refreshTokenIn.optional() }),
        response: { 200: tokenResponse },
      },
      config: {
        access: { anonymous: true },
        openapi: { problems: ["passkey_sign_in_failed", "rate_limited"] },
      },
    },
    async (request, reply) => {
      const rp = relyingPartyFor(request, opts.publicUrl);
      const result = await opts.passkeys.signIn(request.body.credential as never, rp, clientOf(request));
      if (!result.ok && result.code === "rate_limited") {
        const detail = "Too many failed sign-ins from this client; try again later";
        throw new ProblemError("rate_limited", { detail, extra: { retryAfterS: result.retryAfterS } });
      }
      if (!result.ok) throw new ProblemError("passkey_sign_in_failed", { extra: { reason: result.code } });
      return sendSignedIn(result.signedIn, request, reply, request.body.refreshTokenIn ?? "body");
    },
  );
}
