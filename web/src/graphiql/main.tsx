/**
 * The GraphQL explorer served at /graphql to browsers (GraphiQL 5, bundled: works offline).
 * Queries and mutations go over HTTP, subscriptions over the graphql-ws WebSocket on the same path;
 * both carry the Authorization header from the Headers tab (prefilled from the wallet's session
 * when the user is signed in there).
 */
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import type { Fetcher, FetcherOpts, FetcherParams } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

const endpoint = "/graphql";

function authorizationOf(opts: FetcherOpts | undefined): string | undefined {
  const headers = opts?.headers ?? {};
  const key = Object.keys(headers).find((name) => name.toLowerCase() === "authorization");
  return key === undefined ? undefined : String(headers[key]);
}

function isSubscription(params: FetcherParams): boolean {
  try {
    return (
      getOperationAST(parse(params.query), params.operationName ?? undefined)?.operation === "subscription"
    );
  } catch {
    return false;
  }
}

/** One WebSocket per Authorization value (a new token in the Headers tab opens a new one). */
let socket: { authorization: string | undefined; client: Client } | undefined;
function wsClient(authorization: string | undefined): Client {
  if (socket && socket.authorization === authorization) return socket.client;
  void socket?.client.dispose();
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${endpoint}`;
  const client = createClient({ url, connectionParams: authorization ? { authorization } : {}, lazy: true });
  socket = { authorization, client };
  return client;
}

/** The wallet's access token, when the user is signed in there (same origin, same tab storage). */
function walletToken(): string | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem("ledgerflow.session") ?? "null") as {
      token?: string;
    } | null;
    return session?.token;
  } catch {
    return undefined;
  }
}

const token = walletToken();
const defaultHeaders = JSON.stringify(
  { Authorization: `Bearer ${token ?? "<access token from POST /v1/auth/login>"}` },
  null,
  2,
);
const defaultQuery = `# Ledgerflow GraphQL. Put your access token (POST /v1/auth/login)
# in Headers. Schema: /graphql/schema.graphql. Subscriptions
# use a WebSocket on this same path.
query MyAccounts {
  accounts { iban asset balance availableBalance }
}
`;

const fetcher: Fetcher = async (params, opts) => {
  // The schema is fetched before the Headers tab is ready: it goes with the wallet's token then.
  const given = authorizationOf(opts);
  const authorization = given ?? (token ? `Bearer ${token}` : undefined);
  if (isSubscription(params)) return wsClient(authorization).iterate(params);
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(given === undefined && authorization ? { authorization } : {}),
      ...(opts?.headers ?? {}),
    },
    body: JSON.stringify(params),
  });
  return response.json();
};

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphiQL fetcher={fetcher} defaultHeaders={defaultHeaders} defaultQuery={defaultQuery} />
    </StrictMode>,
  );
}
