/**
 * A client's data for the gRPC edge, read through the ledger's door (`LedgerApi.queries`): accounts,
 * and the movements of all their accounts merged newest first, split into branch cash operations
 * and transactions (everything else). A client is a user id; customers see only themselves, tellers,
 * compliance, auditors and admins anyone, and another customer's id looks exactly like an unknown one.
 */
import {
  type AccountState,
  type HistoryItem,
  type LedgerQueries,
  systemOwnerPrefix,
} from "../../ledger/index.ts";
import type { Principal, Role } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";

export const pageSizeDefault = 50;
export const pageSizeMax = 500;
/** Accounts of one client merged into one list; a client with more is refused rather than slow. */
const accountsPerClientMax = 200;
/** Movements one page may look at before it answers (short) with a token to go on from. */
const scannedPerPageMax = 5_000;
const pageTokenPattern = /^[0-9]{1,19}$/;
const branchCashPrefix = `${systemOwnerPrefix}branch-cash:`;
const clientIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who may read any client (the "tellers, compliance and admins"; auditors read everything). */
const clientReaderRoles: readonly Role[] = ["teller", "compliance", "auditor", "admin"];

export function readsAnyClient(principal: Principal): boolean {
  return principal.roles.some((role) => clientReaderRoles.includes(role));
}

export type MovementKind = "transactions" | "operations";

/** One movement of a client's account, with the account it belongs to. */
export interface Movement {
  readonly item: HistoryItem;
  readonly account: AccountState;
  /** The branch of a cash operation (undefined for a transaction). */
  readonly branch: string | undefined;
  /** The counterparty's client, when it is a customer's account. */
  readonly counterpartyClientId?: string | undefined;
}

export interface MovementPage {
  readonly items: readonly Movement[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** The client `requested` names (empty: the caller), if `principal` may read it; else not_found. */
export function clientIdFor(principal: Principal, requested: string | undefined): string {
  const clientId = requested === undefined || requested === "" ? principal.userId : requested;
  if (!clientIdPattern.test(clientId))
    throw new ProblemError("validation_failed", {
      field: "client_id",
      detail: "client_id must be a user id (UUID)",
    });
  if (clientId !== principal.userId && !readsAnyClient(principal))
    throw new ProblemError("not_found", { field: "client_id", detail: "No such client" });
  return clientId;
}

export function pageSizeOf(requested: number | undefined): number {
  const size = requested === undefined || requested === 0 ? pageSizeDefault : requested;
  if (!Number.isInteger(size) || size < 1 || size > pageSizeMax)
    throw new ProblemError("validation_failed", {
      field: "page_size",
      detail: `page_size must be between 1 and ${pageSizeMax}`,
    });
  return size;
}

export function pageTokenOf(token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  if (!pageTokenPattern.test(token))
    throw new ProblemError("validation_failed", {
      field: "page_token",
      detail: "page_token must be a next_page_token of an earlier page",
    });
  return token;
}

/** The client's accounts; a reader asking for a client without any gets not_found (no such client). */
export async function clientAccounts(
  queries: LedgerQueries,
  principal: Principal,
  clientId: string,
): Promise<readonly AccountState[]> {
  const accounts = await queries.accountsOfOwner(clientId);
  if (accounts.length === 0 && clientId !== principal.userId)
    throw new ProblemError("not_found", { field: "client_id", detail: "No such client" });
  if (accounts.length > accountsPerClientMax)
    throw new ProblemError("busy", {
      detail: `Clients with over ${accountsPerClientMax} accounts are not listed here`,
    });
  return accounts;
}

/**
 * A page of the client's movements of one kind, newest first. Entry ids are global and increase, so
 * merging each account's newest entries below the token gives one order across accounts; the token is
 * the id of the last entry looked at.
 */
export async function movementPage(
  queries: LedgerQueries,
  accounts: readonly AccountState[],
  kind: MovementKind,
  pageSize: number,
  pageToken: string | undefined,
): Promise<MovementPage> {
  const found: Movement[] = [];
  let cursor = pageToken;
  let scanned = 0;
  while (found.length < pageSize && scanned < scannedPerPageMax) {
    const batch = await newestBelow(queries, accounts, cursor, pageSize + 1);
    if (batch.length === 0) return { items: found, nextPageToken: "" };
    for (const movement of batch) {
      scanned++;
      cursor = movement.item.cursor;
      const classified = await classify(queries, movement);
      if ((classified.branch !== undefined) === (kind === "operations")) found.push(classified);
      if (found.length === pageSize) break;
    }
  }
  // Whether more follow is known only by looking: one more probe keeps the last page's token empty.
  const more = await newestBelow(queries, accounts, cursor, 1);
  return { items: found, nextPageToken: more.length > 0 ? (cursor ?? "") : "" };
}

/** The `limit` newest entries below `cursor` across `accounts`. */
async function newestBelow(
  queries: LedgerQueries,
  accounts: readonly AccountState[],
  cursor: string | undefined,
  limit: number,
): Promise<Movement[]> {
  const perAccount = await Promise.all(
    accounts.map(async (account) =>
      (await queries.history(account.id, cursor, limit)).map((item) => ({
        item,
        account,
        branch: undefined,
      })),
    ),
  );
  return perAccount
    .flat()
    .sort((a, b) => compareDescending(a.item.cursor, b.item.cursor))
    .slice(0, limit);
}

function compareDescending(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x > y ? -1 : 1;
}

/** A movement against a branch's cash account is that branch's cash operation. */
async function classify(queries: LedgerQueries, movement: Movement): Promise<Movement> {
  const owner = await queries.ownerOfIban(movement.item.counterparty);
  if (owner?.startsWith(branchCashPrefix))
    return { ...movement, branch: owner.slice(branchCashPrefix.length) };
  if (owner === undefined || owner.startsWith(systemOwnerPrefix)) return movement;
  return { ...movement, counterpartyClientId: owner };
}
