/**
 * The read side of the insights context: a client's transactions, operations, interactions and
 * branches, and the branch registry, with keyset cursors (transparent: `<atMs>_<uuid>`…).
 * Access is decided here, once for every edge (REST, GraphQL, gRPC): a customer sees only
 * themselves (anyone else is "not found", no leak); teller, compliance, auditor and admin anyone.
 */
import type pg from "pg";
import type { Principal } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";

/** Roles that may look at any client's insights. */
export const insightStaffRoles = ["teller", "compliance", "auditor", "admin"] as const;

export function mayViewAnyClient(principal: Principal): boolean {
  return principal.roles.some((role) => (insightStaffRoles as readonly string[]).includes(role));
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Cursor of the next (older) page; undefined on the last page. */
  readonly next: string | undefined;
}

export interface PageRequest {
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

export interface ClientTransaction {
  readonly id: string;
  readonly commandId: string;
  readonly iban: string;
  readonly counterparty: string;
  readonly counterpartyClientId: string | undefined;
  /** Signed minor units: negative when the client's account was debited. */
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
}

export interface ClientOperation {
  readonly id: string;
  readonly kind: "deposit" | "withdrawal";
  readonly iban: string;
  readonly branchId: string;
  readonly branchName: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly atMs: number;
}

export interface AssetTotals {
  readonly asset: string;
  readonly sentCount: number;
  readonly sent: bigint;
  readonly receivedCount: number;
  readonly received: bigint;
}

export interface ClientInteraction {
  readonly counterpartyClientId: string;
  /** Where the latest transfer between them went to or came from, on the counterparty's side. */
  readonly counterpartyIban: string;
  readonly count: number;
  readonly totals: readonly AssetTotals[];
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface ClientBranch {
  readonly branchId: string;
  readonly name: string;
  readonly deposits: number;
  readonly withdrawals: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface BranchVolume {
  readonly asset: string;
  readonly deposits: number;
  readonly withdrawals: number;
  readonly deposited: bigint;
  readonly withdrawn: bigint;
}

export interface Branch {
  readonly id: string;
  readonly name: string;
  readonly address: string | undefined;
  readonly zipCode: string | undefined;
  readonly firstAtMs: number;
  readonly clientsCount: number;
  readonly volumes: readonly BranchVolume[];
}

export interface BranchClient {
  readonly clientId: string;
  readonly deposits: number;
  readonly withdrawals: number;
  readonly lastAtMs: number;
}

const uuidPattern = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
export const cursorPatterns = {
  /** `<atMs>_<commandId>_<iban>`: a client's own transfer between two of their accounts is two rows. */
  transactions: new RegExp(`^(\\d{1,15})_(${uuidPattern})_([A-Z0-9]{5,34})$`),
  operations: new RegExp(`^(\\d{1,15})_(${uuidPattern})$`),
  interactions: /^(\d{1,15})_([A-Za-z0-9:._-]{1,128})$/,
  branches: new RegExp(`^(\\d{1,15})_(${uuidPattern})$`),
  registry: new RegExp(`^(${uuidPattern})$`),
} as const;

/** The parts of a cursor, or a 400 naming the `cursor` field. */
export function parseCursor(
  kind: keyof typeof cursorPatterns,
  cursor: string | undefined,
): string[] | undefined {
  if (cursor === undefined) return undefined;
  const match = cursorPatterns[kind].exec(cursor);
  if (!match)
    throw new ProblemError("validation_failed", {
      field: "cursor",
      detail: "cursor is not one this API gave out",
    });
  return match.slice(1);
}

export interface InsightsQueryOptions {
  readonly pageSizeDefault: number;
  readonly pageSizeMax: number;
}

const pageOf = <T>(rows: readonly T[], limit: number, cursorOf: (row: T) => string): Page<T> => {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? cursorOf(last) : undefined };
};

export function createInsightsQueries(pool: pg.Pool, options: InsightsQueryOptions) {
  const limitOf = (page: PageRequest) => {
    const limit = page.limit ?? options.pageSizeDefault;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > options.pageSizeMax)
      throw new ProblemError("validation_failed", {
        field: "limit",
        detail: `limit must be 1 to ${options.pageSizeMax}`,
      });
    return limit;
  };
  return {
    limitOf,
    transactions: (clientId: string, page: PageRequest) => transactions(pool, clientId, page, limitOf(page)),
    operations: (clientId: string, page: PageRequest) => operations(pool, clientId, page, limitOf(page)),
    interactions: (clientId: string, page: PageRequest) => interactions(pool, clientId, page, limitOf(page)),
    branches: (clientId: string, page: PageRequest) => clientBranches(pool, clientId, page, limitOf(page)),
    branchList: (page: PageRequest) => branchList(pool, page, limitOf(page)),
    branch: (id: string) => branch(pool, id),
    async branchClients(id: string, limit: number): Promise<readonly BranchClient[]> {
      const { rows } = await pool.query(
        `SELECT * FROM insights_client_branches WHERE branch_id = $1 ORDER BY last_at_ms DESC, client_id LIMIT $2`,
        [id, limit],
      );
      return rows.map((row) => ({
        clientId: row.client_id,
        deposits: Number(row.deposits),
        withdrawals: Number(row.withdrawals),
        lastAtMs: Number(row.last_at_ms),
      }));
    },
    async updateBranch(
      id: string,
      change: { address?: string | null; zipCode?: string | null },
      atMs: number,
    ) {
      const { rowCount } = await pool.query(
        `UPDATE insights_branches SET
            address = CASE WHEN $2 THEN $3 ELSE address END,
            zip_code = CASE WHEN $4 THEN $5 ELSE zip_code END,
            updated_at_ms = $6
          WHERE id = $1`,
        [
          id,
          change.address !== undefined,
          change.address ?? null,
          change.zipCode !== undefined,
          change.zipCode ?? null,
          atMs,
        ],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}

export type InsightsQueries = ReturnType<typeof createInsightsQueries>;

async function transactions(
  pool: pg.Pool,
  clientId: string,
  page: PageRequest,
  limit: number,
): Promise<Page<ClientTransaction>> {
  const after = parseCursor("transactions", page.cursor);
  const { rows } = await pool.query(
    `SELECT * FROM insights_transactions WHERE client_id = $1
       AND ($2::bigint IS NULL OR (at_ms, command_id, iban) < ($2::bigint, $3::uuid, $4::text))
     ORDER BY at_ms DESC, command_id DESC, iban DESC LIMIT $5`,
    [clientId, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, limit + 1],
  );
  const items: ClientTransaction[] = rows.map((row) => ({
    id: row.transfer_id,
    commandId: row.command_id,
    iban: row.iban,
    counterparty: row.counterparty,
    counterpartyClientId: row.counterparty_id ?? undefined,
    amount: BigInt(row.amount),
    asset: row.asset,
    description: row.description,
    atMs: Number(row.at_ms),
  }));
  return pageOf(items, limit, (t) => `${t.atMs}_${t.commandId}_${t.iban}`);
}

async function operations(
  pool: pg.Pool,
  clientId: string,
  page: PageRequest,
  limit: number,
): Promise<Page<ClientOperation>> {
  const after = parseCursor("operations", page.cursor);
  const { rows } = await pool.query(
    `SELECT o.*, b.name AS branch_name FROM insights_operations o JOIN insights_branches b ON b.id = o.branch_id
      WHERE o.client_id = $1 AND ($2::bigint IS NULL OR (o.at_ms, o.command_id) < ($2::bigint, $3::uuid))
      ORDER BY o.at_ms DESC, o.command_id DESC LIMIT $4`,
    [clientId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  );
  const items: ClientOperation[] = rows.map((row) => ({
    id: row.command_id,
    kind: row.kind,
    iban: row.iban,
    branchId: row.branch_id,
    branchName: row.branch_name,
    amount: BigInt(row.amount),
    asset: row.asset,
    atMs: Number(row.at_ms),
  }));
  return pageOf(items, limit, (o) => `${o.atMs}_${o.id}`);
}

async function clientBranches(
  pool: pg.Pool,
  clientId: string,
  page: PageRequest,
  limit: number,
): Promise<Page<ClientBranch>> {
  const after = parseCursor("branches", page.cursor);
  const { rows } = await pool.query(
    `SELECT c.*, b.name FROM insights_client_branches c JOIN insights_branches b ON b.id = c.branch_id
      WHERE c.client_id = $1 AND ($2::bigint IS NULL OR (c.last_at_ms, c.branch_id) < ($2::bigint, $3::uuid))
      ORDER BY c.last_at_ms DESC, c.branch_id DESC LIMIT $4`,
    [clientId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  );
  const items: ClientBranch[] = rows.map((row) => ({
    branchId: row.branch_id,
    name: row.name,
    deposits: Number(row.deposits),
    withdrawals: Number(row.withdrawals),
    firstAtMs: Number(row.first_at_ms),
    lastAtMs: Number(row.last_at_ms),
  }));
  return pageOf(items, limit, (b) => `${b.lastAtMs}_${b.branchId}`);
}

/** Interactions per counterparty (totals per asset), most recent first; cursor `<lastAtMs>_<counterparty>`. */
async function interactions(
  pool: pg.Pool,
  clientId: string,
  page: PageRequest,
  limit: number,
): Promise<Page<ClientInteraction>> {
  const after = parseCursor("interactions", page.cursor);
  const { rows } = await pool.query(
    `SELECT counterparty_id, max(last_at_ms) AS last_at_ms, min(first_at_ms) AS first_at_ms,
            (array_agg(counterparty_iban ORDER BY last_at_ms DESC))[1] AS counterparty_iban,
            json_agg(json_build_object('asset', asset, 'sentCount', sent_count::text, 'sent', sent_total::text,
                     'receivedCount', received_count::text, 'received', received_total::text) ORDER BY asset) AS totals
       FROM insights_interactions WHERE client_id = $1
      GROUP BY counterparty_id
     HAVING $2::bigint IS NULL OR (max(last_at_ms), counterparty_id) < ($2::bigint, $3::text)
      ORDER BY max(last_at_ms) DESC, counterparty_id DESC LIMIT $4`,
    [clientId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  );
  const items: ClientInteraction[] = rows.map((row) => {
    const totals = (row.totals as Record<string, string>[]).map((t) => ({
      asset: t.asset as string,
      sentCount: Number(t.sentCount),
      sent: BigInt(t.sent as string),
      receivedCount: Number(t.receivedCount),
      received: BigInt(t.received as string),
    }));
    return {
      counterpartyClientId: row.counterparty_id,
      counterpartyIban: row.counterparty_iban,
      count: totals.reduce((n, t) => n + t.sentCount + t.receivedCount, 0),
      totals,
      firstAtMs: Number(row.first_at_ms),
      lastAtMs: Number(row.last_at_ms),
    };
  });
  return pageOf(items, limit, (i) => `${i.lastAtMs}_${i.counterpartyClientId}`);
}

const branchSql = `SELECT b.*,
    (SELECT count(*) FROM insights_client_branches c WHERE c.branch_id = b.id) AS clients_count,
    (SELECT coalesce(json_agg(json_build_object('asset', v.asset, 'deposits', v.deposits::text,
              'withdrawals', v.withdrawals::text, 'deposited', v.deposited::text, 'withdrawn', v.withdrawn::text)
              ORDER BY v.asset), '[]'::json)
       FROM insights_branch_volumes v WHERE v.branch_id = b.id) AS volumes
  FROM insights_branches b`;

function branchFromRow(row: Record<string, unknown>): Branch {
  return {
    id: row.id as string,
    name: row.name as string,
    address: (row.address as string | null) ?? undefined,
    zipCode: (row.zip_code as string | null) ?? undefined,
    firstAtMs: Number(row.first_at_ms),
    clientsCount: Number(row.clients_count),
    volumes: (row.volumes as Record<string, string>[]).map((v) => ({
      asset: v.asset as string,
      deposits: Number(v.deposits),
      withdrawals: Number(v.withdrawals),
      deposited: BigInt(v.deposited as string),
      withdrawn: BigInt(v.withdrawn as string),
    })),
  };
}

/** Every branch by name (the registry is small: a bank's branches); cursor: the last branch's id. */
async function branchList(pool: pg.Pool, page: PageRequest, limit: number): Promise<Page<Branch>> {
  const after = parseCursor("registry", page.cursor);
  const { rows } = await pool.query(
    `${branchSql} WHERE $1::uuid IS NULL OR (b.key, b.id) > (SELECT key, id FROM insights_branches WHERE id = $1::uuid)
      ORDER BY b.key, b.id LIMIT $2`,
    [after?.[0] ?? null, limit + 1],
  );
  return pageOf(rows.map(branchFromRow), limit, (b) => b.id);
}

async function branch(pool: pg.Pool, id: string): Promise<Branch | undefined> {
  const { rows } = await pool.query(`${branchSql} WHERE b.id = $1::uuid`, [id]);
  return rows[0] === undefined ? undefined : branchFromRow(rows[0]);
}
