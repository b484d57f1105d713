/**
 * ledgerflow.v1.ClientService: a client's data through the insights context's door
 * (`InsightsApi.clients`: the same read models, cursors and access rule as REST's /v1/clients and
 * GraphQL's client), and the live stream of a client's command outcomes and balance changes (the
 * ledger's notifier, as GraphQL subscriptions use it).
 */
import { Metadata, type ServerWritableStream } from "@grpc/grpc-js";
import type {
  ClientBranch,
  ClientInteraction,
  ClientOperation,
  ClientTransaction,
  Page,
} from "../../insights/index.ts";
import type { Principal } from "../../platform/http/auth.ts";
import {
  type Problem,
  type ProblemCode,
  ProblemError,
  problem,
  problemKinds,
} from "../../platform/http/problems.ts";
import { type Caller, callerOf, type EdgeContext, endStream, unary } from "./call.ts";
import { toGrpcStatus } from "./errors.ts";
import {
  accountMessage,
  balanceChangeMessage,
  branchMessage,
  interactionMessage,
  operationMessage,
  resultMessage,
  transactionMessage,
} from "./views.ts";
import type { WatchedEvent } from "./watch.ts";

interface ListRequest {
  client_id?: string;
  page_size?: number;
  page_token?: string;
}

/** The insights API names its inputs as REST does; here they are the request's fields. */
const grpcFields: Readonly<Record<string, string>> = {
  id: "client_id",
  cursor: "page_token",
  limit: "page_size",
};

/** Runs `read`, renaming the fields of its problems to this API's request fields. */
export async function withRequestFields<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const { code, field, detail } = error.problem;
    const renamed = field === undefined ? undefined : grpcFields[field];
    if (renamed === undefined || !isProblemCode(code)) throw error;
    // "limit must be 1 to 100" names the REST field; say the request's ("page_size must be …").
    const text = field === "id" ? detail : detail?.replace(new RegExp(`\\b${field}\\b`, "g"), renamed);
    throw new ProblemError(code, { field: renamed, ...(text === undefined ? {} : { detail: text }) });
  }
}

function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(problemKinds, code);
}

function clientIdOf(principal: Principal, requested: string | undefined): string {
  return requested === undefined || requested === "" ? principal.userId : requested;
}

function pageRequestOf(request: ListRequest) {
  return {
    limit: request.page_size === undefined || request.page_size === 0 ? undefined : request.page_size,
    cursor: request.page_token === undefined || request.page_token === "" ? undefined : request.page_token,
  };
}

function pageMessage<T, M>(page: Page<T>, view: (item: T) => M) {
  return { items: page.items.map(view), next_page_token: page.next ?? "" };
}

export function clientServiceHandlers(edge: EdgeContext) {
  const { clients } = edge.insights;
  const list =
    <T, M>(
      read: (
        principal: Principal,
        clientId: string,
        page: ReturnType<typeof pageRequestOf>,
      ) => Promise<Page<T>>,
      view: (item: T) => M,
    ) =>
    ({ principal }: Caller, request: ListRequest) =>
      withRequestFields(async () =>
        pageMessage(
          await read(principal, clientIdOf(principal, request.client_id), pageRequestOf(request)),
          view,
        ),
      );
  return {
    GetClient: unary<{ client_id?: string; page_size?: number }, unknown>(edge, ({ principal }, request) =>
      withRequestFields(async () => {
        const { limit } = pageRequestOf(request);
        const overview = await clients.overview(principal, clientIdOf(principal, request.client_id), limit);
        return {
          client_id: overview.client.id,
          username: overview.client.username,
          accounts: overview.accounts.map(accountMessage),
          transactions: pageMessage(overview.transactions, transactionMessage),
          operations: pageMessage(overview.operations, operationMessage),
          interactions: pageMessage(overview.interactions, interactionMessage),
          branches: pageMessage(overview.branches, branchMessage),
        };
      }),
    ),
    ListTransactions: unary(edge, list<ClientTransaction, unknown>(clients.transactions, transactionMessage)),
    ListOperations: unary(edge, list<ClientOperation, unknown>(clients.operations, operationMessage)),
    ListInteractions: unary(
      edge,
      list<ClientInteraction & { counterpartyUsername: string | undefined }, unknown>(
        clients.interactions,
        interactionMessage,
      ),
    ),
    ListBranches: unary(edge, list<ClientBranch, unknown>(clients.branches, branchMessage)),
  };
}

type WatchCall = ServerWritableStream<{ client_id?: string }, unknown>;

/** WatchClient: authenticated and authorized like the fetches, then fed by the watch hub. */
export function watchClient(edge: EdgeContext) {
  return (call: WatchCall) => {
    startWatch(edge, call).catch((error: unknown) =>
      call.emit("error", toGrpcStatus(error, edge.onInternal)),
    );
  };
}

// setTimeout's longest delay (about 24.8 days); a later expiry is capped there (the token ends sooner).
const timerDelayMaxMs = 2 ** 31 - 1;

async function startWatch(edge: EdgeContext, call: WatchCall): Promise<void> {
  const { principal, expiresAtMs } = await callerOf(edge.verifyToken, call.metadata);
  // The same access rule and "not found" as the fetches: the insights context decides.
  const client = await withRequestFields(() =>
    edge.insights.clients.find(principal, clientIdOf(principal, call.request.client_id)),
  );
  const clientId = client.id;
  if (call.cancelled) return;
  if (edge.watchHub.watchersCount >= edge.config.watchStreamsMax)
    throw new ProblemError("rate_limited", { detail: "Too many watches on this server; try again later" });
  let ended = false;
  const stop = () => {
    if (ended) return false;
    ended = true;
    unwatch();
    clearTimeout(expiry);
    return true;
  };
  const end = (body: Problem) => {
    if (stop()) endStream(call, body);
  };
  const unwatch = edge.watchHub.watch(clientId, {
    deliver: (event) => {
      if (ended) return;
      // objectMode: writableLength counts the messages not yet handed to HTTP/2.
      if (call.writableLength >= edge.config.watchBufferedMax) return end(tooSlow());
      call.write(eventMessage(event));
    },
    overflow: () => end(tooSlow()),
  });
  // A stream must not outlive the access token that opened it (as GraphQL's WebSocket).
  const expiry = setTimeout(
    () => end(problem("unauthenticated", { detail: "The access token has expired" })),
    Math.max(0, Math.min(expiresAtMs - Date.now(), timerDelayMaxMs)),
  );
  expiry.unref();
  // Response headers go out once the watch is live: a client that waits for them misses nothing after.
  call.sendMetadata(new Metadata());
  // The caller cancelled or went away: nothing to send, only to let go.
  call.on("cancelled", stop);
  call.on("close", stop);
}

function tooSlow(): Problem {
  return problem("rate_limited", {
    detail: "The watcher fell too far behind and missed events; watch again",
  });
}

function eventMessage(event: WatchedEvent) {
  return event.kind === "outcome"
    ? { outcome: resultMessage(event.result) }
    : { balance_change: balanceChangeMessage(event.event) };
}
