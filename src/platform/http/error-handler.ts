import type { Socket } from "node:net";
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from "fastify";
import { asInfrastructureError } from "../db/errors.ts";
import { InfrastructureError } from "../errors.ts";
import type { Problem } from "./problems.ts";
import { ProblemError, problem } from "./problems.ts";

/**
 * The one place where errors become HTTP responses (RFC 9457, application/problem+json).
 * Install once on the root instance; encapsulated plugins inherit it.
 *
 * - ProblemError: its problem as is. A `retryAfterS` extension also sets `Retry-After`.
 * - Request validation (zod via fastify-type-provider-zod, or Ajv): 400 validation_failed naming the
 *   first offending `field` ("amount", "transfers/3/to"; an unknown field names itself).
 * - Body parsing: too large 413, unsupported content type 415, malformed/empty JSON 400.
 * - UnavailableError (or any InfrastructureError with code "unavailable"): 503 with Retry-After.
 * - BusyError (a bounded queue of this process is full): 503 `busy` with Retry-After.
 * - Anything else: 500 internal, logged with its stack; the client learns nothing about it.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const result = toProblem(error);
    if (result.status >= 500 && result.code === "internal") {
      request.log.error({ err: error }, "request failed");
    } else if (result.code === "busy") {
      // Expected under overload, possibly one per request of an attack: not worth a warning each.
      request.log.debug({ err: error }, "busy");
    } else if (result.status >= 500) {
      request.log.warn({ err: error }, "dependency unavailable");
    }
    return sendProblem(reply, result);
  });
  // Before body parsing, which would otherwise answer e.g. a QUERY without a body with its own 400.
  app.addHook("onRequest", async (request, reply) => {
    if (!request.is404) return;
    const refusal = methodNotAllowed(app, request, reply);
    if (refusal) return sendProblem(reply, refusal);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "";
    return sendProblem(reply, problem("not_found", { detail: `No route for ${request.method} ${path}` }));
  });
}

/**
 * RFC 9110 §15.5.6: when the resource exists but not with this method, 405 with `Allow` naming the
 * methods that do; undefined when no route serves the path at all.
 */
export function methodNotAllowed(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
): Problem | undefined {
  const path = request.url.split("?")[0] ?? "";
  const allowed = allowedMethods(app, path);
  if (allowed.length === 0) return undefined;
  reply.header("allow", allowed.join(", "));
  const detail = `${request.method} is not allowed on ${path}; allowed: ${allowed.join(", ")}`;
  return problem("method_not_allowed", { detail });
}

const routableMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * Methods with a route for `path`; the web app's catch-all (`GET /*`) does not count. When a route
 * names this exact path (`POST /v1/me/passkeys/options`), the resource is that one: a parameter
 * route that would also fit (`DELETE /v1/me/passkeys/{id}` with id "options") does not count.
 */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  const matches = routableMethods.flatMap((method) => {
    const route = app.findRoute({ method, url: path });
    if (route === null || route === undefined || "*" in (route.params ?? {})) return [];
    return [{ method, exact: Object.keys(route.params ?? {}).length === 0 }];
  });
  const exactOnly = matches.some((match) => match.exact);
  return matches.filter((match) => !exactOnly || match.exact).map((match) => match.method);
}

/**
 * Fastify options that route the errors Fastify answers itself (before any route or hook) through
 * the same problem details: a URL whose percent-encoding is broken (`/%ff`) or a parameter too long
 * (router), and requests Node's HTTP parser rejects (malformed request line or headers, timeouts).
 */
export const problemFrameworkOptions = {
  frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    reply.log.debug({ code: error.code }, "request refused by the router");
    return sendProblem(reply, toProblem(error));
  },
  clientErrorHandler: sendClientErrorProblem,
} satisfies Pick<FastifyServerOptions, "frameworkErrors" | "clientErrorHandler">;

/** Node's HTTP parser refused the request: there is no request object, only the socket to answer on. */
function sendClientErrorProblem(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one to answer (as Fastify's default handler does).
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, text, body] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [
          408,
          "Request Timeout",
          { ...problem("validation_failed", { detail: "The request took too long" }), status: 408 },
        ]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [
            431,
            "Request Header Fields Too Large",
            { ...problem("validation_failed", { detail: "The headers are too large" }), status: 431 },
          ]
        : [400, "Bad Request", problem("validation_failed", { detail: "The request is not valid HTTP" })];
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy();
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  const retryAfterS = body.retryAfterS;
  if (typeof retryAfterS === "number" && Number.isFinite(retryAfterS)) {
    reply.header("retry-after", String(Math.max(0, Math.ceil(retryAfterS))));
  }
  return reply.code(body.status).type("application/problem+json").send(body);
}

const unavailableRetryAfterS = 1;
// A full queue drains in milliseconds (argon2 at ~6 ms per call); 1 s is the smallest Retry-After.
const busyRetryAfterS = 1;

export function toProblem(thrown: unknown): Problem {
  if (thrown instanceof ProblemError) return thrown.problem;
  // Read-side queries surface raw driver errors; a database restarting is a 503, not a 500.
  const error = asInfrastructureError(thrown);
  if (error instanceof InfrastructureError && error.code === "unavailable") {
    return problem("unavailable", { extra: { retryAfterS: unavailableRetryAfterS } });
  }
  if (error instanceof InfrastructureError && error.code === "busy") {
    return problem("busy", { extra: { retryAfterS: busyRetryAfterS } });
  }
  if (!isFastifyError(error)) return problem("internal");
  if (Array.isArray(error.validation) && error.validation.length > 0) return validationProblem(error);
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return problem("body_too_large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return problem("unsupported_media_type", { detail: "Send the body as application/json" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return problem("validation_failed", { detail: "The body is not valid JSON" });
    case "FST_ERR_BAD_URL":
      return problem("validation_failed", { detail: "The URL is not validly percent-encoded" });
  }
  // Fastify's other client errors (bad Content-Length, forbidden __proto__ key in JSON, …).
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return problem("validation_failed", { detail: "The request is malformed" });
  return problem("internal");
}

interface ValidationIssue {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function validationProblem(error: FastifyError): Problem {
  const issue = (error.validation?.[0] ?? {}) as ValidationIssue;
  const field = fieldOf(issue);
  const where = error.validationContext ?? "body";
  const detail = issue.message === undefined ? `Invalid ${where}` : `${field ?? where}: ${issue.message}`;
  return problem("validation_failed", { detail, ...(field === undefined ? {} : { field }) });
}

/** The offending field as a slash path without the leading slash; undefined for the whole body. */
function fieldOf(issue: ValidationIssue): string | undefined {
  const base = (issue.instancePath ?? "").replace(/^\//, "");
  const params = issue.params ?? {};
  // zod `unrecognized_keys` and Ajv `additionalProperties` / `required` point at the parent object.
  const child =
    firstString(params.keys) ??
    stringOrUndefined(params.additionalProperty) ??
    stringOrUndefined(params.missingProperty);
  const path = child === undefined ? base : base === "" ? child : `${base}/${child}`;
  return path === "" ? undefined : path;
}

function firstString(value: unknown): string | undefined {
  return Array.isArray(value) ? stringOrUndefined(value[0]) : undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isFastifyError(error: unknown): error is FastifyError {
  return (
    error instanceof Error &&
    (typeof (error as { code?: unknown }).code === "string" || "statusCode" in error)
  );
}
