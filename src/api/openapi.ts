/**
 * Makes /openapi.json tell the whole truth about each operation: every status it can answer.
 *
 * Route schemas (zod, turned into JSON Schema by fastify-type-provider-zod) describe inputs. What
 * they cannot say is which problems a route answers; most follow from the route itself, so they are
 * derived here rather than repeated in every route:
 * - any input schema (body, query, params, headers) or a body at all: 400 validation_failed;
 * - a body: 413 body_too_large, 415 unsupported_media_type, 422 forbidden_json_key (the parser's);
 * - `security` declared: 401 unauthenticated; a `requireRole` preHandler: 403 forbidden;
 * - every route: 503 unavailable (database restarting, server closing).
 * The rest a route declares in `config.openapi`: its success statuses, its own problems (404, 409,
 * 422…) and OpenAPI links to the operations its answer leads to (used by stateful API fuzzing).
 */
import type { FastifyInstance, RouteOptions } from "fastify";
import type { RouteAccess } from "../platform/http/access.ts";
import { roleCheckMarker } from "../platform/http/auth.ts";
import { type ProblemCode, problemKinds } from "../platform/http/problems.ts";

export interface OperationLink {
  /** The target as "METHOD /fastify/:path". */
  readonly operation: string;
  /** Target parameter → runtime expression, e.g. `{ iban: "$response.body#/iban" }`. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface OperationContract {
  /** Success statuses and what each means (default: whatever the route's response schema says). */
  readonly success?: Readonly<Record<number, string>>;
  /** Problems besides the derived ones. */
  readonly problems?: readonly ProblemCode[];
  /** Per success status, named links to the operations its body leads to. */
  readonly links?: Readonly<Record<number, Readonly<Record<string, OperationLink>>>>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    openapi?: OperationContract;
  }
}

interface RouteFacts {
  readonly problems: ReadonlySet<ProblemCode>;
  readonly contract: OperationContract;
  /** Who may call (the route's `config.access`), published as `x-ledgerflow-access`. */
  readonly access: RouteAccess | undefined;
}

type OpenApiDocument = Record<string, unknown> & { paths?: Record<string, Record<string, OpenApiOperation>> };
interface OpenApiOperation {
  responses?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

const bodyMethods = new Set(["POST", "PUT", "PATCH"]);

export const problemSchema = {
  type: "object",
  description: "RFC 9457 problem details",
  required: ["type", "title", "status", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: {
      description: 'The HTTP status; "FAILED" for a command the ledger rejected (422)',
      anyOf: [{ type: "integer" }, { type: "string", enum: ["FAILED"] }],
    },
    code: { type: "string", description: "Stable error code to switch on" },
    detail: { type: "string" },
    field: { type: "string", description: "The offending input, e.g. amount or transfers/3/to" },
    instance: { type: "string" },
  },
} as const;

/** OpenAPI path of a Fastify url: `/v1/accounts/:iban` → `/v1/accounts/{iban}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function operationRef(target: string): string {
  const [method = "", url = ""] = target.split(" ");
  const pointer = openApiPath(url).replaceAll("~", "~0").replaceAll("/", "~1");
  return `#/paths/${pointer}/${method.toLowerCase()}`;
}

function derivedProblems(route: RouteOptions): Set<ProblemCode> {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const methods = [route.method].flat().map((m) => String(m).toUpperCase());
  const problems = new Set<ProblemCode>(["unavailable"]);
  const hasBody = methods.some((m) => bodyMethods.has(m));
  if (hasBody || schema.body || schema.querystring || schema.params || schema.headers)
    problems.add("validation_failed");
  if (hasBody) {
    problems.add("body_too_large");
    problems.add("unsupported_media_type");
    problems.add("forbidden_json_key");
  }
  // A route that needs a signed-in caller (its security, or its declared access) answers 401
  // without one, or once its session is revoked.
  const signedIn = route.config?.access?.roles !== undefined;
  if (signedIn || (Array.isArray(schema.security) && schema.security.length > 0))
    problems.add("unauthenticated");
  if (Array.isArray(route.config?.access?.roles)) problems.add("forbidden");
  const preHandlers = [route.preHandler ?? []].flat() as unknown[];
  if (preHandlers.some((handler) => typeof handler === "function" && roleCheckMarker in handler))
    problems.add("forbidden");
  return problems;
}

/**
 * Records each documented route's facts (call before any route is added); returns the function
 * that completes the generated document (pass it as @fastify/swagger's `transformObject`).
 */
export function operationContracts(app: FastifyInstance): <D extends object>(document: D) => D {
  const facts = new Map<string, RouteFacts>();
  app.addHook("onRoute", (route) => {
    if ((route.schema as { hide?: boolean } | undefined)?.hide) return;
    const contract = route.config?.openapi ?? {};
    const problems = derivedProblems(route);
    for (const code of contract.problems ?? []) problems.add(code);
    for (const method of [route.method].flat()) {
      if (String(method).toUpperCase() === "HEAD") continue;
      const access = route.config?.access;
      facts.set(`${String(method).toLowerCase()} ${openApiPath(route.url)}`, { problems, contract, access });
    }
  });
  return <D extends object>(document: D) => completeDocument(document as OpenApiDocument, facts) as D;
}

function completeDocument(
  document: OpenApiDocument,
  facts: ReadonlyMap<string, RouteFacts>,
): OpenApiDocument {
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const routeFacts = facts.get(`${method} ${path}`);
      if (routeFacts) completeOperation(operation, routeFacts);
    }
  }
  const components = (document.components ?? {}) as Record<string, Record<string, unknown>>;
  return {
    ...document,
    components: { ...components, schemas: { ...components.schemas, Problem: problemSchema } },
  };
}

function completeOperation(operation: OpenApiOperation, { problems, contract, access }: RouteFacts): void {
  // The authorization matrix (src/app/authorization-matrix.e2e.test.ts) reads each route's policy here.
  if (access !== undefined) (operation as Record<string, unknown>)["x-ledgerflow-access"] = access;
  // Declared access that needs a caller is the Bearer scheme, whether or not the route said so.
  const declared = operation as { security?: unknown[] };
  if (access?.roles !== undefined && !(Array.isArray(declared.security) && declared.security.length > 0))
    declared.security = [{ bearer: [] }];
  const responses: Record<string, Record<string, unknown>> = { ...operation.responses };
  if (contract.success) {
    // @fastify/swagger's placeholder when a route has no response schema.
    if (responses["200"]?.description === "Default Response" && !contract.success[200])
      delete responses["200"];
    for (const [status, description] of Object.entries(contract.success)) {
      responses[status] = { ...responses[status], description };
    }
  }
  for (const [status, links] of Object.entries(contract.links ?? {})) {
    const response = responses[status];
    if (!response) throw new Error(`links for undocumented status ${status}`);
    response.links = Object.fromEntries(
      Object.entries(links).map(([name, link]) => [
        name,
        { operationRef: operationRef(link.operation), parameters: link.parameters },
      ]),
    );
  }
  const byStatus = new Map<number, string[]>();
  for (const code of problems) {
    const { status, title } = problemKinds[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${title} (\`${code}\`)`]);
  }
  for (const [status, titles] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: titles.join("; "),
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }
  operation.responses = responses;
}
