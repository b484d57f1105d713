/** The HTTP edge: one Fastify app with the error registry, OpenAPI, health, and every module's routes. */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import { installJsonBodyParser } from "../api/json-body.ts";
import { operationContracts } from "../api/openapi.ts";
import { decoratePrincipal, type PreHandler, requireRole } from "../platform/http/auth.ts";
import {
  installErrorHandler,
  methodNotAllowed,
  problemFrameworkOptions,
  sendProblem,
} from "../platform/http/error-handler.ts";
import { ProblemError } from "../platform/http/problems.ts";

export interface HttpAppDeps {
  readonly logger: FastifyBaseLogger;
  readonly bodyBytesMax: number;
  /** Proxies whose X-Forwarded-For names the client (request.ip); none: the connecting address. */
  readonly trustedProxies?: readonly string[] | undefined;
  /** The identity module's Bearer hook (admin-only endpoints of the edge itself). */
  readonly authenticate: PreHandler;
  readonly ready: () => Promise<boolean>;
  readonly metricsRegistry: Registry;
  /** Route plugins: every module's routes, then the edges (GraphQL, dead letters…). */
  readonly plugins?: readonly ((app: FastifyInstance) => Promise<void>)[];
  readonly webDir?: string;
  readonly version: string;
}

export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyBytesMax,
    // Only listed proxies: trusting any would let every client pick its address (and its limits).
    trustProxy: deps.trustedProxies === undefined ? false : [...deps.trustedProxies],
    // Per-request log lines cost more than the request at thousands per second; errors still log.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // JSON bodies only; __proto__ / constructor keys are refused rather than silently dropped.
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Path parameters are validated by their schemas (400 naming the field); the router's own limit
    // (100 by default, below a dead-letter topic's 249) only guards against absurd URLs.
    routerOptions: { maxParamLength: 2048 },
    // Errors the router and Node's HTTP parser answer themselves leave as problem details too.
    ...problemFrameworkOptions,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser("text/plain");
  installJsonBodyParser(app, { moneyLiterals: true });
  installErrorHandler(app);
  decoratePrincipal(app);
  const completeOpenApi = operationContracts(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Ledgerflow API",
        version: deps.version,
        description:
          "Double-entry ledger with an exactly-once command pipeline. Amounts are integer minor units as decimal strings. Errors are RFC 9457 problem details with a stable `code`. GraphQL (queries, mutations; subscriptions over WebSocket) is served at /graphql with its schema at /graphql/schema.graphql.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) =>
      "openapiObject" in document ? completeOpenApi(document.openapiObject) : document.swaggerObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const ready = await deps.ready().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "starting" });
  });

  // Admins only: metrics tell who uses which gateway how much (a local scraper may use the
  // loopback listener instead, see metrics-listener.ts).
  app.get(
    "/metrics",
    { schema: { hide: true }, preHandler: [deps.authenticate, requireRole("admin")] },
    async (_request, reply) =>
      reply.type(deps.metricsRegistry.contentType).send(await deps.metricsRegistry.metrics()),
  );

  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  if (deps.webDir && existsSync(join(deps.webDir, "index.html"))) serveWeb(app, deps.webDir);
  return app;
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/**
 * Serves the built web app; unknown non-API paths get index.html (client-side routing). The router
 * has already decoded the path once: it is used as is (decoding again would turn `%252e%252e` into
 * `..` and throw on a literal `%`), and a file is served only from inside the web folder.
 */
function serveWeb(app: FastifyInstance, webDir: string): void {
  const root = normalize(webDir).replace(/[\\/]+$/, "");
  const assets = join(root, "assets") + sep;
  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const path = (request.params as { "*": string })["*"] ?? "";
    if (/^(v1|graphql|metrics)(\/|$)/.test(path)) {
      const refusal = methodNotAllowed(app, request, reply);
      if (refusal) return sendProblem(reply, refusal);
      throw new ProblemError("not_found", { detail: `No route for GET /${path}` });
    }
    const file = webFileOf(root, path) ?? join(root, "index.html");
    const type = contentTypes[extname(file)] ?? "application/octet-stream";
    reply.header(
      "cache-control",
      file.startsWith(assets) ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return reply.type(type).send(await readFile(file));
  });
}

/** The file `path` names inside `root`, if it is one (with an extension); never a path outside. */
export function webFileOf(root: string, path: string): string | undefined {
  if (path === "" || path.includes("\0")) return undefined;
  const candidate = normalize(join(root, path));
  // With the separator: "/srv/web/dist-old/x" starts with "/srv/web/dist" but is not inside it.
  if (!candidate.startsWith(root + sep)) return undefined;
  return extname(candidate) !== "" && statSync(candidate, { throwIfNoEntry: false })?.isFile()
    ? candidate
    : undefined;
}
