/**
 * `/v1/me/phone`: the caller's phone number and its verification. In embedded mode with the
 * development SMS sink, `GET /v1/me/phone/dev-code` also shows the code that was "sent" (the web
 * app displays it); that route does not exist anywhere else.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { UnavailableError } from "../../platform/errors.ts";
import { type PreHandler, principalOf } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { codeLength } from "./codes.ts";
import type { PhoneVerification } from "./service.ts";
import type { DevSmsSink } from "./sms.ts";

export interface PhoneRoutesOptions {
  readonly phone: PhoneVerification | undefined;
  readonly authenticate: PreHandler;
  /** The development sink, when its codes may be shown (embedded mode only). */
  readonly devSink: DevSmsSink | undefined;
}

const bodyBytesMax = 4 * 1024;
const e164 = z.string().describe("E.164, e.g. +31612345678");

const statusResponse = z.object({
  phoneNumber: e164.optional().describe("The verified number, if any"),
  verified: z.boolean(),
  pending: z
    .object({ phoneNumber: e164, expiresAt: z.iso.datetime(), attemptsLeft: z.int() })
    .optional()
    .describe("A code sent and not used yet"),
});

const startResponse = z.object({
  status: z.enum(["code_sent", "verified"]).describe("verified: this number is already the caller's"),
  phoneNumber: e164,
  expiresInS: z.int().optional(),
});

export async function phoneRoutes(app: FastifyInstance, options: PhoneRoutesOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  statusRoute(app, options);
  startRoute(app, options);
  verifyRoute(app, options);
  if (options.devSink !== undefined) devCodeRoute(app, options, options.devSink);
}

const secured = { tags: ["identity"], security: [{ bearer: [] }] };

function phoneOf(options: PhoneRoutesOptions): PhoneVerification {
  if (options.phone === undefined)
    throw new UnavailableError("SMS (no provider configured: LEDGERFLOW_SMS_PROVIDER)");
  return options.phone;
}

function statusRoute(root: FastifyInstance, options: PhoneRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/me/phone",
    {
      schema: {
        ...secured,
        summary: "The caller's phone number and any verification in progress",
        response: { 200: statusResponse },
      },
      config: { access: { roles: "any", owner: true } },
      preHandler: options.authenticate,
    },
    async (request) => {
      const status = await phoneOf(options).status(principalOf(request).userId);
      return {
        ...(status.phoneNumber ? { phoneNumber: status.phoneNumber } : {}),
        verified: status.verified,
        ...(status.pending
          ? { pending: { ...status.pending, expiresAt: new Date(status.pending.expiresAtMs).toISOString() } }
          : {}),
      };
    },
  );
}

function startRoute(root: FastifyInstance, options: PhoneRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/me/phone",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        ...secured,
        summary: "Set or change the caller's phone number: sends a one-time code to it",
        description: "The number becomes the caller's once the code is verified (POST /v1/me/phone/verify).",
        body: z.strictObject({
          phoneNumber: z
            .string()
            .min(3)
            .max(32)
            .describe("E.164 (+31612345678), or national with the configured default country"),
        }),
        response: { 202: startResponse, 200: startResponse },
      },
      preHandler: options.authenticate,
      // The caller's own phone number only.
      config: {
        access: { roles: "any", owner: true },
        openapi: { problems: ["phone_invalid", "phone_taken", "rate_limited"] },
      },
    },
    async (request, reply) => {
      const result = await phoneOf(options).start(
        principalOf(request).userId,
        request.body.phoneNumber,
        request.ip,
      );
      if (!result.ok) {
        if (result.code === "phone_invalid")
          throw new ProblemError("phone_invalid", {
            field: "phoneNumber",
            detail: "Use the international form, e.g. +31 6 1234 5678",
          });
        if (result.code === "rate_limited")
          throw new ProblemError("rate_limited", {
            detail: "Too many codes sent; try again later",
            extra: { retryAfterS: result.retryAfterS },
          });
        throw new ProblemError("phone_taken", { field: "phoneNumber" });
      }
      const { ok: _ok, ...body } = result;
      return reply.code(result.status === "code_sent" ? 202 : 200).send(body);
    },
  );
}

function verifyRoute(root: FastifyInstance, options: PhoneRoutesOptions): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/me/phone/verify",
    {
      bodyLimit: bodyBytesMax,
      schema: {
        ...secured,
        summary: "Verify the caller's phone number with the code sent to it",
        body: z.strictObject({ code: z.string().regex(new RegExp(`^[0-9]{${codeLength}}$`)) }),
        response: { 200: z.object({ phoneNumber: e164, verified: z.literal(true) }) },
      },
      preHandler: options.authenticate,
      // The caller's own phone number only.
      config: {
        access: { roles: "any", owner: true },
        openapi: { problems: ["otp_invalid", "otp_expired", "phone_taken"] },
      },
    },
    async (request) => {
      const result = await phoneOf(options).verify(
        principalOf(request).userId,
        request.body.code,
        request.ip,
      );
      if (result.ok) return { phoneNumber: result.phoneNumber, verified: true as const };
      if (result.code === "otp_invalid")
        throw new ProblemError("otp_invalid", {
          field: "code",
          detail:
            result.attemptsLeft > 0
              ? `${result.attemptsLeft} attempts left`
              : "No attempts left: this code no longer works; request a new one",
          extra: { attemptsLeft: result.attemptsLeft },
        });
      if (result.code === "phone_taken") throw new ProblemError("phone_taken");
      throw new ProblemError("otp_expired", { field: "code" });
    },
  );
}

function devCodeRoute(root: FastifyInstance, options: PhoneRoutesOptions, devSink: DevSmsSink): void {
  const routes = root.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/v1/me/phone/dev-code",
    {
      schema: {
        ...secured,
        summary: "DEVELOPMENT ONLY (embedded mode, development SMS sink): the code just sent to the caller",
        response: {
          200: z.object({ phoneNumber: e164, code: z.string(), note: z.string() }),
        },
      },
      preHandler: options.authenticate,
      // The caller's own phone number only.
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
    },
    async (request) => {
      const phoneNumber = await phoneOf(options).pendingPhoneOf(principalOf(request).userId);
      const sent = phoneNumber === undefined ? undefined : devSink.lastCodeTo(phoneNumber);
      if (phoneNumber === undefined || sent === undefined)
        throw new ProblemError("not_found", { detail: "No code is waiting for the caller" });
      return {
        phoneNumber,
        code: sent.code,
        note: "Development SMS sink (embedded mode): no SMS was sent. Configure LEDGERFLOW_SMS_PROVIDER=http for real messages.",
      };
    },
  );
}
