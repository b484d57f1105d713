/**
 * What every gRPC handler shares: the caller from the `authorization` metadata (verified by identity's
 * verifier, as the HTTP API does), the unary wrapper that maps every error once, and the wait for a
 * command's outcome within the call's deadline.
 */
import type { handleUnaryCall, Metadata, ServerWritableStream } from "@grpc/grpc-js";
import type { InsightsApi } from "../../insights/index.ts";
import type { LedgerApi } from "../../ledger/index.ts";
import { bearerToken, type Principal, type VerifyToken } from "../../platform/http/auth.ts";
import { type Problem, ProblemError } from "../../platform/http/problems.ts";
import type { GrpcConfig } from "./config.ts";
import { grpcStatusOf, toGrpcStatus } from "./errors.ts";
import type { ClientWatchHub } from "./watch.ts";

/** The caller of a call, as its access token names it, and when that token expires. */
export interface Caller {
  readonly principal: Principal;
  readonly expiresAtMs: number;
}

/** What every handler gets. */
export interface EdgeContext {
  readonly ledger: LedgerApi;
  readonly insights: Pick<InsightsApi, "clients">;
  readonly verifyToken: VerifyToken;
  readonly config: GrpcConfig;
  readonly onInternal: (cause: unknown) => void;
  readonly watchHub: ClientWatchHub;
}

/** The caller named by `authorization: Bearer <token>` metadata, verified as the HTTP API does. */
export async function callerOf(verifyToken: VerifyToken, metadata: Metadata): Promise<Caller> {
  const values = metadata.get("authorization");
  const header = values.length === 1 && typeof values[0] === "string" ? values[0] : undefined;
  const token = bearerToken(header);
  if (token === undefined)
    throw new ProblemError("unauthenticated", {
      detail: "Send metadata authorization: Bearer <access token>",
    });
  const verified = await verifyToken(token);
  if (!verified.ok) {
    const detail =
      verified.code === "token_expired" ? "The access token has expired" : "The access token is invalid";
    throw new ProblemError("unauthenticated", { detail });
  }
  return { principal: verified.principal, expiresAtMs: verified.expiresAtMs };
}

/** A unary handler: authenticated, its errors mapped once. */
export function unary<Request, Response>(
  edge: EdgeContext,
  handle: (
    caller: Caller,
    request: Request,
    call: { getDeadline(): Date | number; cancelled: boolean },
  ) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    callerOf(edge.verifyToken, call.metadata)
      .then((caller) => handle(caller, call.request, call))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(toGrpcStatus(error, edge.onInternal)),
      );
  };
}

// The server's answer must reach the client before its deadline: stop waiting this much earlier.
const deadlineMarginMs = 100;

/**
 * How long a command call waits for its outcome: what the request asks (default: as long as allowed),
 * within the call's deadline and the server's limit. Deadlines are wall-clock times set by grpc-js
 * from the grpc-timeout header, hence Date.now() rather than the platform's clock.
 */
export function waitMsOf(
  requestedMs: number | undefined,
  deadline: Date | number,
  waitMsMax: number,
  nowMs = Date.now(),
): number {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const beforeDeadlineMs = Number.isFinite(deadlineMs) ? deadlineMs - nowMs - deadlineMarginMs : Infinity;
  return Math.max(0, Math.min(requestedMs ?? Infinity, beforeDeadlineMs, waitMsMax));
}

/** Ends a server stream with the status of `code` (trailers and details as for unary calls). */
export function endStream(call: ServerWritableStream<unknown, unknown>, body: Problem): void {
  call.emit("error", grpcStatusOf(body));
}
