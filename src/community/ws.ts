/**
 * The community WebSocket edge: `/v1/community/ws`, one connection per app. Authenticated like the
 * GraphQL WebSocket: the upgrade's `Authorization: Bearer` header, or (browsers) an `auth` message
 * first; the socket closes with 4401 when the token expires. Every message gets a `reply` or an
 * `error` with a stable code; pushes reach only the user they concern (hub.ts). Protocol:
 * protocol.ts and the README.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { type WebSocket, WebSocketServer } from "ws";
import type { Principal, VerifyToken } from "../platform/http/auth.ts";
import { bearerToken } from "../platform/http/auth.ts";
import { claimUpgradePath, refuseUpgrade, upgradePathOf } from "../platform/http/upgrades.ts";
import type { Hub } from "./hub.ts";
import { type ClientMessage, clientMessage, closeCodes } from "./protocol.ts";
import { CommunityError, type CommunityService } from "./service.ts";

export const communitySocketPath = "/v1/community/ws";

export interface SocketEdgeDeps {
  readonly service: CommunityService;
  readonly hub: Hub;
  readonly verifyToken: VerifyToken;
  readonly nowMs: () => number;
  readonly limits: { messageBytesMax: number; socketsMax: number; messagesPerSecondMax: number };
  readonly onError: (error: unknown) => void;
}

const authWaitMs = 10_000;
/** Seconds of a socket's message allowance that may wait unanswered before it is closed. */
const waitingSecondsMax = 5;
const timerDelayMaxMs = 2 ** 31 - 1;

export function communitySocketRoute(deps: SocketEdgeDeps) {
  return async (app: FastifyInstance) => {
    const sockets = new WebSocketServer({ noServer: true, maxPayload: deps.limits.messageBytesMax });
    let closing = false;
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (upgradePathOf(request.url) !== communitySocketPath) return;
      if (closing || sockets.clients.size >= deps.limits.socketsMax)
        return refuseUpgrade(socket, 503, "Service Unavailable");
      sockets.handleUpgrade(request, socket, head, (client) => serveSocket(deps, client, request));
    };
    app.server.on("upgrade", onUpgrade);
    claimUpgradePath(app.server, communitySocketPath);
    app.addHook("preClose", async () => {
      closing = true;
      app.server.off("upgrade", onUpgrade);
      for (const client of sockets.clients) client.close(1001, "Server shutting down");
      for (const client of sockets.clients) client.terminate();
    });
  };
}

function send(socket: WebSocket, message: Record<string, unknown>): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function closeAtExpiry(socket: WebSocket, remainingMs: number): void {
  if (remainingMs <= 0) {
    socket.close(closeCodes.unauthorized, "The access token has expired");
    return;
  }
  const delayMs = Math.min(remainingMs, timerDelayMaxMs);
  const timer = setTimeout(() => closeAtExpiry(socket, remainingMs - delayMs), delayMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/** One app's socket: authenticate, then answer each message in order. */
function serveSocket(deps: SocketEdgeDeps, socket: WebSocket, request: IncomingMessage) {
  let principal: Principal | undefined;
  let leave: (() => boolean) | undefined;
  let queue = Promise.resolve();
  const bucket = { windowStartMs: 0, count: 0 };
  const authTimer = setTimeout(() => socket.close(closeCodes.authTimeout, "Authenticate first"), authWaitMs);
  authTimer.unref();
  // A client's protocol error (e.g. a message over maxPayload): ws closes the socket itself (1009)
  // and 'close' cleans up. Without a listener, 'error' would be thrown and end the process.
  socket.on("error", () => {});
  socket.on("close", () => {
    clearTimeout(authTimer);
    // The user's last socket here closed: they stop sharing their position.
    if (principal && leave?.()) deps.service.forget(principal.userId).catch(deps.onError);
  });
  const signIn = async (token: string | undefined, ref?: string): Promise<void> => {
    const verified = token === undefined ? undefined : await deps.verifyToken(token);
    const remainingMs = verified?.ok ? verified.expiresAtMs - deps.nowMs() : 0;
    if (!verified?.ok || remainingMs <= 0)
      return socket.close(closeCodes.unauthorized, "The access token is invalid or expired");
    clearTimeout(authTimer);
    principal = verified.principal;
    leave = deps.hub.join(principal.userId, (push) => send(socket, push));
    closeAtExpiry(socket, remainingMs);
    send(socket, { type: "ready", ref, userId: principal.userId, roles: principal.roles });
  };
  // With the upgrade's header, sign in before the first message is handled.
  const header = request.headers.authorization;
  if (header !== undefined) queue = signIn(bearerToken(header));
  let waitingCount = 0;
  socket.on("message", (data, isBinary) => {
    const parsed = parseMessage(isBinary ? undefined : data.toString());
    // Counted as messages arrive, not as they are handled: a client within the limit is never
    // refused because the server fell behind, and refused messages never join the queue.
    if (overLimit(bucket, deps.nowMs(), deps.limits.messagesPerSecondMax)) {
      const ref = "error" in parsed ? parsed.error.ref : parsed.message.ref;
      return send(socket, errorOf(ref, "rate_limited", "Too many messages; slow down"));
    }
    // A socket whose queue outgrows a few seconds of its allowance is not being answered anyway.
    if (++waitingCount > deps.limits.messagesPerSecondMax * waitingSecondsMax)
      return socket.close(closeCodes.tooMuchWaiting, "Too many messages waiting");
    queue = queue.then(() => onMessage(parsed)).finally(() => waitingCount--);
  });
  const onMessage = async (parsed: Parsed) => {
    if ("error" in parsed) return send(socket, { type: "error", ...parsed.error });
    const message = parsed.message;
    if (message.type === "auth")
      return principal
        ? send(socket, errorOf(message.ref, "validation_failed", "Already authenticated"))
        : signIn(message.token, message.ref);
    if (principal === undefined)
      return send(socket, errorOf(message.ref, "unauthenticated", "Send an auth message first"));
    try {
      send(socket, {
        type: "reply",
        ref: message.ref,
        of: message.type,
        result: await dispatch(deps.service, principal, message),
      });
    } catch (error) {
      if (error instanceof CommunityError)
        return send(socket, errorOf(message.ref, error.code, error.message, error.field));
      deps.onError(error);
      send(socket, errorOf(message.ref, "internal", "Internal error"));
    }
  };
}

function errorOf(ref: string | undefined, code: string, detail: string, field?: string) {
  return { type: "error", ref, code, detail, ...(field === undefined ? {} : { field }) };
}

function overLimit(bucket: { windowStartMs: number; count: number }, nowMs: number, perSecondMax: number) {
  if (nowMs - bucket.windowStartMs >= 1_000) {
    bucket.windowStartMs = nowMs;
    bucket.count = 0;
  }
  bucket.count++;
  return bucket.count > perSecondMax;
}

type Parsed =
  | { message: ClientMessage }
  | { error: { code: string; detail: string; field?: string; ref?: string } };

function parseMessage(text: string | undefined): Parsed {
  let json: unknown;
  try {
    json = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return { error: { code: "validation_failed", detail: "Send JSON text messages" } };
  }
  const result = clientMessage.safeParse(json);
  if (result.success) return { message: result.data };
  const issue = result.error.issues[0];
  const ref =
    typeof (json as { ref?: unknown })?.ref === "string" ? (json as { ref: string }).ref : undefined;
  const field = issue?.path.join("/") || undefined;
  return {
    error: {
      code: "validation_failed",
      detail: issue?.message ?? "The message is malformed",
      ...(field ? { field } : {}),
      ...(ref ? { ref } : {}),
    },
  };
}

function dispatch(
  service: CommunityService,
  principal: Principal,
  message: Exclude<ClientMessage, { type: "auth" }>,
) {
  switch (message.type) {
    case "available":
      return service.goAvailable(principal, message);
    case "stop":
      return service.stop(principal);
    case "location":
      return service.reportLocation(principal, message);
    case "request":
      return service.request(principal, message);
    case "accept":
    case "decline":
      return service.answer(principal, { requestId: message.requestId, action: message.type });
  }
}
