/**
 * GraphQL at `/graphql`: queries and mutations over HTTP (GET/POST, GraphQL over HTTP via
 * graphql-http) and subscriptions over WebSocket (graphql-ws protocol) on the same path.
 * Both authenticate with the REST API's Bearer JWT and share one preparation step: size and depth
 * limits, validation, then execution with the caller as context.
 *
 * Register with `startPlatform({ plugins: [graphqlPlugin] })`.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  type ExecutionArgs,
  GraphQLError,
  type GraphQLSchema,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import { createHandler } from "graphql-http";
import { CloseCode, type Context } from "graphql-ws";
// Renamed: biome's React hook rules take any `use…` call for a hook.
import { useServer as serveGraphqlWs, type Extra as WsExtra } from "graphql-ws/use/ws";
import { type WebSocket, WebSocketServer } from "ws";
import type { PlatformServices } from "../../app/platform.ts";
import { assert } from "../../platform/errors.ts";
import type { Principal, VerifyToken } from "../../platform/http/auth.ts";
import { bearerToken } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { claimUpgradePath } from "../../platform/http/upgrades.ts";
import { installJsonBodyParser } from "../json-body.ts";
import { graphqlProblem, toClientError } from "./errors.ts";
import { insightsResolvers } from "./insights-resolvers.ts";
import {
  type DocumentLimits,
  defaultDocumentLimits,
  documentLimitsRule,
  parseWithinLimits,
} from "./limits.ts";
import { type GraphqlContext, ledgerResolvers } from "./resolvers.ts";
import { buildLedgerSchema, typeDefs } from "./schema.ts";

export const graphqlPath = "/graphql";

export interface GraphqlOptions {
  readonly limits: DocumentLimits;
  /** Largest HTTP body or WebSocket message. */
  readonly messageBytesMax: number;
  /** Operations in flight on one WebSocket (subscriptions, mostly). */
  readonly operationsPerSocketMax: number;
  /** Open WebSockets per process. */
  readonly socketsMax: number;
  /** Events one subscription may fall behind before it ends with rate_limited. */
  readonly subscriptionBufferedMax: number;
  /** How long `commandOutcome` waits for an undecided command. */
  readonly commandOutcomeWaitMsMax: number;
  /** Server pings this often; a client that does not answer within as long is dropped. */
  readonly keepAliveMs: number;
  /** On shutdown, sockets get this long to finish the close handshake before they are cut. */
  readonly closeGraceMs: number;
  /** The built GraphQL explorer page (web/dist/graphiql.html), served when `http.graphqlExplorer` is on. */
  readonly explorerPage: string;
}

export const defaultGraphqlOptions: GraphqlOptions = {
  limits: defaultDocumentLimits,
  messageBytesMax: 64 * 1024,
  operationsPerSocketMax: 100,
  socketsMax: 10_000,
  subscriptionBufferedMax: 1_000,
  commandOutcomeWaitMsMax: 60 * 60 * 1000,
  keepAliveMs: 12_000,
  closeGraceMs: 1_000,
  explorerPage: join(import.meta.dirname, "..", "..", "..", "web", "dist", "graphiql.html"),
};

/** The GraphQL route plugin with the default limits. */
export function graphqlPlugin(services: PlatformServices): (app: FastifyInstance) => Promise<void> {
  return createGraphqlPlugin()(services);
}

export function createGraphqlPlugin(overrides: Partial<GraphqlOptions> = {}) {
  const options: GraphqlOptions = { ...defaultGraphqlOptions, ...overrides };
  return (services: PlatformServices) => async (app: FastifyInstance) => {
    const log = services.logger.child({ component: "graphql" });
    const ledger = ledgerResolvers({
      ledger: services.ledger,
      inbox: services.inbox,
      subscriptionBufferedMax: options.subscriptionBufferedMax,
      commandOutcomeWaitMsMax: options.commandOutcomeWaitMsMax,
    });
    const insights = insightsResolvers(services.insights, services.ledger);
    const schema = buildLedgerSchema({
      ...ledger,
      ...insights,
      Query: { ...ledger.Query, ...insights.Query },
    });
    const rules: readonly ValidationRule[] = [...specifiedRules, documentLimitsRule(options.limits)];
    const formatError = (error: GraphQLError | Error) =>
      toClientError(error, (cause) => log.error({ err: cause }, "graphql operation failed"));
    const prepare = (request: OperationRequest, principal: Principal) =>
      prepareOperation(schema, rules, options.limits, request, { principal });
    const verify = (authorization: string | undefined) =>
      verifyBearer(services.identity.verifyToken, authorization);

    // Amounts are String! here: GraphQL refuses a JSON number for one, so literals need no keeping.
    installJsonBodyParser(app, { moneyLiterals: false });
    const explorer = services.config.http.graphqlExplorer
      ? explorerHtml(options.explorerPage, log)
      : undefined;
    serveHttp(app, options, prepare, formatError, services.identity.authenticate, explorer);
    serveWebSocket(app, options, prepare, formatError, verify, () => services.clock.nowMs());
    app.get(`${graphqlPath}/schema.graphql`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type("text/plain; charset=utf-8").send(typeDefs),
    );
  };
}

interface OperationRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown> | null | undefined;
  readonly operationName?: string | null | undefined;
}

type PreparedOperation = ExecutionArgs & { contextValue: GraphqlContext };
type Prepare = (
  request: OperationRequest,
  principal: Principal,
) => PreparedOperation | readonly GraphQLError[];
type FormatError = (error: GraphQLError | Error) => GraphQLError;

/** Parse within limits and validate: execution arguments, or the errors to answer with. */
export function prepareOperation(
  schema: GraphQLSchema,
  rules: readonly ValidationRule[],
  limits: DocumentLimits,
  request: OperationRequest,
  contextValue: GraphqlContext,
): PreparedOperation | readonly GraphQLError[] {
  const document = parseWithinLimits(request.query, limits);
  if (document instanceof GraphQLError) return [document];
  const errors = validate(schema, document, rules);
  if (errors.length > 0) return errors;
  return {
    schema,
    document,
    variableValues: request.variables ?? undefined,
    operationName: request.operationName ?? undefined,
    contextValue,
  };
}

/** The explorer page, read once; undefined (and a warning) when the web app is not built. */
function explorerHtml(path: string, log: { warn(text: string): void }): Buffer | undefined {
  if (existsSync(path)) return readFileSync(path);
  log.warn(`GraphQL explorer not served: ${path} is missing (npm run build:web)`);
  return undefined;
}

/** A browser's page request (its Accept names HTML), not a GraphQL client's GET. */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

function serveHttp(
  app: FastifyInstance,
  options: GraphqlOptions,
  prepare: Prepare,
  formatError: FormatError,
  authenticate: PlatformServices["identity"]["authenticate"],
  explorer: Buffer | undefined,
): void {
  const handle = createHandler<FastifyRequest, { principal: Principal }, GraphqlContext>({
    onSubscribe: (request, params) => prepare(params, request.context.principal),
    formatError,
  });
  app.route({
    method: ["GET", "POST"],
    url: graphqlPath,
    bodyLimit: options.messageBytesMax,
    schema: {
      // GraphQL has its own schema (GET /graphql/schema.graphql); OpenAPI cannot describe which
      // query strings are valid, so the endpoint is documented in the API description instead.
      hide: true,
      tags: ["graphql"],
      summary: "GraphQL over HTTP (queries and mutations); subscriptions use WebSocket on the same path",
      description: `Schema: GET ${graphqlPath}/schema.graphql. Errors carry extensions.code.`,
      security: [{ bearer: [] }],
    },
    handler: async (request, reply) => {
      if (explorer && request.method === "GET" && wantsHtml(request.headers.accept))
        return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(explorer);
      try {
        await authenticate(request, reply);
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        const body = { errors: [graphqlProblem("unauthenticated", { detail: error.message }).toJSON()] };
        return reply.code(401).type("application/json; charset=utf-8").send(body);
      }
      const principal = request.principal;
      assert(principal, "authenticate sets the principal");
      const [body, init] = await handle({
        url: request.url,
        method: request.method,
        headers: request.headers,
        body: (request.body ?? null) as Record<string, unknown> | null,
        raw: request,
        context: { principal },
      });
      return reply
        .code(init.status)
        .headers(init.headers ?? {})
        .send(body ?? undefined);
    },
  });
}

type Verification = { ok: true; principal: Principal; expiresAtMs: number } | { ok: false; detail: string };

// setTimeout's longest delay (about 24.8 days); a later expiry is re-armed from there.
const timerDelayMaxMs = 2 ** 31 - 1;

/**
 * A connection is authenticated once, at connection_init, so it must not outlive the access token
 * that opened it: it closes with 4401 (graphql-ws's Unauthorized: clients reconnect with a fresh
 * token rather than retry the same one) when the token expires.
 */
function closeAtExpiry(socket: WebSocket, remainingMs: number): void {
  if (remainingMs <= 0) {
    socket.close(CloseCode.Unauthorized, "The access token has expired");
    return;
  }
  const delayMs = Math.min(remainingMs, timerDelayMaxMs);
  const timer = setTimeout(() => closeAtExpiry(socket, remainingMs - delayMs), delayMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

type SocketContext = Context<
  Record<string, unknown> | undefined,
  WsExtra & Partial<{ principal: Principal }>
>;

/** graphql-ws onConnect: a verified, unexpired token or the socket closes with 4401. */
async function acceptConnection(
  ctx: SocketContext,
  verify: (authorization: string | undefined) => Promise<Verification>,
  nowMs: () => number,
): Promise<boolean> {
  const verified = await verify(
    authorizationParam(ctx.connectionParams) ?? ctx.extra.request.headers.authorization,
  );
  if (!verified.ok) {
    // 4401 tells graphql-ws clients not to retry; 4403 (returning false) would make them retry.
    ctx.extra.socket.close(CloseCode.Unauthorized, verified.detail);
    return false;
  }
  const remainingMs = verified.expiresAtMs - nowMs();
  // Within the clock tolerance a just-expired token still verifies: it opens nothing here.
  if (remainingMs <= 0) {
    ctx.extra.socket.close(CloseCode.Unauthorized, "The access token has expired");
    return false;
  }
  ctx.extra.principal = verified.principal;
  closeAtExpiry(ctx.extra.socket, remainingMs);
  return true;
}

/** Disposes the server, waits up to `graceMs` for clients to close, then terminates the rest. */
async function closeSockets(sockets: WebSocketServer, dispose: () => void | Promise<void>, graceMs: number) {
  const clients = [...sockets.clients];
  const allClosed = Promise.all(
    clients.map((client) => new Promise((resolve) => client.once("close", resolve))),
  );
  await dispose();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([allClosed, grace]);
  clearTimeout(timer);
  for (const client of sockets.clients) client.terminate();
}

function serveWebSocket(
  app: FastifyInstance,
  options: GraphqlOptions,
  prepare: Prepare,
  formatError: FormatError,
  verify: (authorization: string | undefined) => Promise<Verification>,
  nowMs: () => number,
): void {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: options.messageBytesMax });
  const server = serveGraphqlWs<Record<string, unknown> | undefined, { principal: Principal }>(
    {
      isProd: true,
      onConnect: (ctx) => acceptConnection(ctx, verify, nowMs),
      onSubscribe: (ctx, _id, payload) => {
        const principal = ctx.extra.principal;
        assert(principal, "graphql-ws subscribes only acknowledged connections");
        // The operation being subscribed is already counted.
        if (Object.keys(ctx.subscriptions).length > options.operationsPerSocketMax) {
          return [
            graphqlProblem("rate_limited", {
              detail: `At most ${options.operationsPerSocketMax} operations at once per connection`,
            }),
          ];
        }
        return prepare(payload, principal);
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => formatError(error).toJSON()) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error).toJSON()),
    },
    sockets,
    options.keepAliveMs,
  );

  let closing = false;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Another edge may serve this path; one nobody claims is answered 404 (platform/http/upgrades.ts).
    if (pathOf(request.url) !== graphqlPath) return;
    if (closing) return refuseUpgrade(socket, 503, "Service Unavailable");
    if (sockets.clients.size >= options.socketsMax) return refuseUpgrade(socket, 503, "Service Unavailable");
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit("connection", client, request));
  };
  app.server.on("upgrade", onUpgrade);
  claimUpgradePath(app.server, graphqlPath);

  // Before the HTTP server closes: open sockets would otherwise keep it from closing.
  app.addHook("preClose", async () => {
    closing = true;
    app.server.off("upgrade", onUpgrade);
    await closeSockets(sockets, () => server.dispose(), options.closeGraceMs);
  });
  app.addHook("onClose", async () => {
    app.server.off("upgrade", onUpgrade);
  });
}

function authorizationParam(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  if (typeof value !== "string") return undefined;
  // Clients often pass the bare token in connectionParams.
  return /^bearer /i.test(value) ? value : `Bearer ${value}`;
}

/**
 * Checks an Authorization header value with the REST API's own `authenticate`, so both edges accept
 * exactly the same tokens. It reads only `headers.authorization`, sets `principal` and may set a
 * `WWW-Authenticate` header; a WebSocket upgrade has no Fastify request, hence this minimal stand-in.
 */
async function verifyBearer(
  verifyToken: VerifyToken,
  authorization: string | undefined,
): Promise<Verification> {
  const token = bearerToken(authorization);
  if (token === undefined) return { ok: false, detail: "Send Authorization: Bearer <access token>" };
  const verified = await verifyToken(token);
  if (verified.ok) return { ok: true, principal: verified.principal, expiresAtMs: verified.expiresAtMs };
  return {
    ok: false,
    detail:
      verified.code === "token_expired" ? "The access token has expired" : "The access token is invalid",
  };
}

function pathOf(url: string | undefined): string {
  return (url ?? "").split("?")[0] ?? "";
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
