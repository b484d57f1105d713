/**
 * Listing and searching payments: by IBAN, status, direction, gateway and creation time, newest
 * first, with keyset (cursor) pagination so a page costs the same however deep it is. Staff see
 * every payment; a customer sees only their own (the owner filter is forced, not offered).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import { ibanInput, ibanOrFail } from "../ledger/index.ts";
import { mayReadAnyAccount, type PreHandler, principalOf } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { PaymentState } from "./domain/types.ts";
import { paymentColumns, paymentFromRow } from "./store.ts";

export const paymentsPageSizeMax = 200;
const paymentsPageSizeDefault = 50;

/** Where the previous page ended: the last payment's creation time and id (the sort key). */
interface Cursor {
  readonly createdAtMs: number;
  readonly id: string;
}

// Keyset cursors are transparent (`<createdAtMs>_<id>`): any string of this shape is a valid
// position, so a request the OpenAPI document allows is never refused for its cursor.
const cursorPattern = /^([0-9]{1,15})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(cursor: Cursor): string {
  return `${cursor.createdAtMs}_${cursor.id}`;
}

export function decodeCursor(text: string): Cursor | undefined {
  const match = cursorPattern.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  return { createdAtMs: Number(match[1]), id: match[2] };
}

export interface PaymentFilter {
  readonly ownerId?: string;
  readonly iban?: string;
  readonly status?: PaymentState["status"];
  readonly direction?: PaymentState["direction"];
  readonly gateway?: string;
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly after?: Cursor;
}

/** One page, newest first; `limit + 1` rows are read so the caller knows whether more follow. */
export async function searchPayments(
  pool: pg.Pool,
  filter: PaymentFilter,
  limit: number,
): Promise<PaymentState[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown): void => {
    values.push(value);
    where.push(sql(`$${values.length}`));
  };
  if (filter.ownerId !== undefined) add((p) => `owner_id = ${p}`, filter.ownerId);
  if (filter.iban !== undefined) add((p) => `iban = ${p}`, filter.iban);
  if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
  if (filter.direction !== undefined) add((p) => `direction = ${p}`, filter.direction);
  if (filter.gateway !== undefined) add((p) => `gateway = ${p}`, filter.gateway);
  if (filter.fromMs !== undefined) add((p) => `created_at_ms >= ${p}`, filter.fromMs);
  if (filter.toMs !== undefined) add((p) => `created_at_ms < ${p}`, filter.toMs);
  if (filter.after) {
    values.push(filter.after.createdAtMs, filter.after.id);
    where.push(`(created_at_ms, id) < ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(limit + 1);
  const { rows } = await pool.query(
    `SELECT ${paymentColumns} FROM payments
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at_ms DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map(paymentFromRow);
}

export const paymentsQuery = z.strictObject({
  iban: ibanInput.optional().describe("The customer account's IBAN (spaces allowed)"),
  status: z.enum(["PENDING", "SUCCESS", "FAILURE", "REVERSED"]).optional(),
  type: z.enum(["deposit", "withdrawal"]).optional(),
  gateway: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .optional()
    .describe("The gateway that handled the payment"),
  from: z.iso.datetime({ offset: true }).optional().describe("Created at or after (RFC 3339)"),
  to: z.iso.datetime({ offset: true }).optional().describe("Created before (RFC 3339)"),
  cursor: z.string().regex(cursorPattern).optional().describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(paymentsPageSizeMax).default(paymentsPageSizeDefault),
});
type PaymentsQuery = z.infer<typeof paymentsQuery>;

/** The query as a filter; a malformed cursor or an empty time range is a 400 naming its field. */
export function filterOf(query: PaymentsQuery): Omit<PaymentFilter, "ownerId"> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && !after)
    throw new ProblemError("validation_failed", {
      field: "cursor",
      detail: "cursor: not a cursor of this list",
    });
  const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
  const toMs = query.to === undefined ? undefined : Date.parse(query.to);
  // An empty range (to <= from) is a valid question with an empty answer, not a bad request.
  return {
    ...(query.iban === undefined ? {} : { iban: ibanOrFail(query.iban, "iban") }),
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.type === undefined ? {} : { direction: query.type }),
    ...(query.gateway === undefined ? {} : { gateway: query.gateway }),
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    ...(after === undefined ? {} : { after }),
  };
}

export async function paymentListRoute(
  root: FastifyInstance,
  deps: {
    readonly pool: pg.Pool;
    readonly http: { readonly authenticate: PreHandler };
    readonly view: (payment: PaymentState) => unknown;
  },
): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    "/v1/payments",
    {
      schema: {
        tags: ["payments"],
        summary: "Search payments, newest first, with cursor pagination",
        description:
          "Filters combine (AND). Staff see every payment, customers their own. `nextCursor` is null on the last page.",
        querystring: paymentsQuery,
        security: [{ bearer: [] }],
      },
      config: { access: { roles: "any", owner: true } },
      preHandler: [deps.http.authenticate],
    },
    async (request) => {
      const principal = principalOf(request);
      const filter = filterOf(request.query);
      const owner = mayReadAnyAccount(principal) ? {} : { ownerId: principal.userId };
      const { limit } = request.query;
      const rows = await searchPayments(deps.pool, { ...filter, ...owner }, limit);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map(deps.view),
        nextCursor:
          rows.length > limit && last ? encodeCursor({ createdAtMs: last.createdAtMs, id: last.id }) : null,
      };
    },
  );
}
