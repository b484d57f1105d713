/**
 * ledgerflow.v1.ClientService: a client's data, all at once or by kind with page tokens, and the live
 * stream of their command outcomes and balance changes (the ledger's notifier, as GraphQL
 * subscriptions use it). Interactions and branches come from the insights read models; until that
 * context is wired here they answer UNIMPLEMENTED (and GetClient leaves them empty).
 */
import { Metadata, type ServerWritableStream } from "@grpc/grpc-js";
import { type Problem, ProblemError, problem } from "../../platform/http/problems.ts";
import { type Caller, callerOf, type EdgeContext, endStream, unary } from "./call.ts";
import {
  clientAccounts,
  clientIdFor,
  type MovementKind,
  movementPage,
  pageSizeOf,
  pageTokenOf,
} from "./client-data.ts";
import { toGrpcStatus } from "./errors.ts";
import {
  accountMessage,
  balanceChangeMessage,
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

const emptyPage = { items: [], next_page_token: "" };

function insightsMissing(): ProblemError {
  // 405's gRPC status is UNIMPLEMENTED: the method exists in the API but is not served yet.
  return new ProblemError("method_not_allowed", {
    detail: "Interactions and branches need the insights context, not served by this version",
  });
}

export function clientServiceHandlers(edge: EdgeContext) {
  const { queries } = edge.ledger;
  const page = async ({ principal }: Caller, request: ListRequest, kind: MovementKind) => {
    const clientId = clientIdFor(principal, request.client_id);
    const pageSize = pageSizeOf(request.page_size);
    const pageToken = pageTokenOf(request.page_token);
    const accounts = await clientAccounts(queries, principal, clientId);
    return movementPage(queries, accounts, kind, pageSize, pageToken);
  };
  return {
    GetClient: unary<{ client_id?: string; page_size?: number }, unknown>(
      edge,
      async ({ principal }, request) => {
        const clientId = clientIdFor(principal, request.client_id);
        const pageSize = pageSizeOf(request.page_size);
        const accounts = await clientAccounts(queries, principal, clientId);
        const [transactions, operations] = await Promise.all([
          movementPage(queries, accounts, "transactions", pageSize, undefined),
          movementPage(queries, accounts, "operations", pageSize, undefined),
        ]);
        return {
          client_id: clientId,
          accounts: accounts.map(accountMessage),
          transactions: {
            items: transactions.items.map(transactionMessage),
            next_page_token: transactions.nextPageToken,
          },
          operations: {
            items: operations.items.map(operationMessage),
            next_page_token: operations.nextPageToken,
          },
          interactions: emptyPage,
          branches: emptyPage,
        };
      },
    ),
    ListTransactions: unary<ListRequest, unknown>(edge, async (caller, request) => {
      const found = await page(caller, request, "transactions");
      return { items: found.items.map(transactionMessage), next_page_token: found.nextPageToken };
    }),
    ListOperations: unary<ListRequest, unknown>(edge, async (caller, request) => {
      const found = await page(caller, request, "operations");
      return { items: found.items.map(operationMessage), next_page_token: found.nextPageToken };
    }),
    ListInteractions: unary<ListRequest, unknown>(edge, async ({ principal }, request) => {
      clientIdFor(principal, request.client_id);
      throw insightsMissing();
    }),
    ListBranches: unary<ListRequest, unknown>(edge, async ({ principal }, request) => {
      clientIdFor(principal, request.client_id);
      throw insightsMissing();
    }),
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
  const clientId = clientIdFor(principal, call.request.client_id);
  await clientAccounts(edge.ledger.queries, principal, clientId);
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
