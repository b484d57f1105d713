/** The inbox table: written by the projection, read and marked by the user's requests. */
import type pg from "pg";
import { prepared } from "../platform/db/pool.ts";
import type { InboxEntry, NotificationKind } from "./domain/entries.ts";

export interface StoredNotification extends InboxEntry {
  /** Position in the inbox: newer entries have larger cursors. */
  readonly cursor: string;
  readonly read: boolean;
}

export interface InboxStore {
  /** Adds entries not stored yet (by id); returns how many were new. */
  add(entries: readonly InboxEntry[]): Promise<number>;
  /** A user's entries older than `beforeCursor` (all when undefined), newest first. */
  page(userId: string, beforeCursor: string | undefined, limit: number): Promise<StoredNotification[]>;
  unreadCount(userId: string): Promise<number>;
  /** Marks the user's entries with these ids and those up to and including `upToCursor`; neither: all. */
  markRead(userId: string, which: { ids?: readonly string[]; upToCursor?: string }): Promise<number>;
}

function fromRow(row: Record<string, unknown>): StoredNotification {
  return {
    cursor: String(row.seq),
    id: row.id as string,
    userId: row.user_id as string,
    kind: row.kind as NotificationKind,
    iban: row.iban as string,
    counterparty: row.counterparty as string,
    amount: BigInt(row.amount as string),
    asset: row.asset as string,
    description: row.description as string,
    transferId: row.transfer_id as string,
    commandId: row.command_id as string,
    atMs: Number(row.at_ms),
    read: row.read as boolean,
  };
}

export function createInboxStore(pool: pg.Pool): InboxStore {
  return {
    async add(entries) {
      if (entries.length === 0) return 0;
      const column = <T>(pick: (entry: InboxEntry) => T) => entries.map(pick);
      const { rowCount } = await pool.query(
        // An entry its user already marked read from a live push arrives read (early marks).
        prepared(`WITH early AS (
            DELETE FROM notifications_early_reads e
             USING unnest($1::uuid[], $2::text[]) AS n(id, user_id)
             WHERE e.id = n.id AND e.user_id = n.user_id
            RETURNING e.id
          )
          INSERT INTO notifications (id, user_id, kind, iban, counterparty, amount, asset, description,
                                     transfer_id, command_id, at_ms, read)
          SELECT n.*, n.id IN (SELECT id FROM early)
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                        $7::text[], $8::text[], $9::uuid[], $10::uuid[], $11::bigint[])
                 AS n(id, user_id, kind, iban, counterparty, amount, asset, description, transfer_id,
                      command_id, at_ms)
          ON CONFLICT (id) DO NOTHING`),
        [
          column((e) => e.id),
          column((e) => e.userId),
          column((e) => e.kind),
          column((e) => e.iban),
          column((e) => e.counterparty),
          column((e) => e.amount.toString()),
          column((e) => e.asset),
          column((e) => e.description),
          column((e) => e.transferId),
          column((e) => e.commandId),
          column((e) => String(e.atMs)),
        ],
      );
      return rowCount ?? 0;
    },
    async page(userId, beforeCursor, limit) {
      const { rows } = await pool.query(
        prepared(`SELECT * FROM notifications WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
          ORDER BY seq DESC LIMIT $3`),
        [userId, beforeCursor ?? null, limit],
      );
      return rows.map(fromRow);
    },
    async unreadCount(userId) {
      const { rows } = await pool.query(
        prepared("SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND NOT read"),
        [userId],
      );
      return rows[0].n as number;
    },
    async markRead(userId, which) {
      const everything = which.ids === undefined && which.upToCursor === undefined;
      const { rowCount } = await pool.query(
        prepared(`UPDATE notifications SET read = true
          WHERE user_id = $1 AND NOT read AND ($2 OR id = ANY($3::uuid[]) OR seq <= $4::bigint)`),
        [userId, everything, which.ids ?? [], which.upToCursor ?? null],
      );
      if (which.ids !== undefined && which.ids.length > 0) await markEarly(pool, userId, which.ids);
      return rowCount ?? 0;
    },
  };
}

/** Ids named but not (yet) in the user's inbox: kept as early marks for the projection to apply. */
async function markEarly(pool: pg.Pool, userId: string, ids: readonly string[]): Promise<void> {
  await pool.query(
    prepared(`WITH pruned AS (
        DELETE FROM notifications_early_reads WHERE at < now() - interval '1 hour'
      )
      INSERT INTO notifications_early_reads (id, user_id)
      SELECT n.id, $1::text FROM unnest($2::uuid[]) AS n(id)
       WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE notifications.id = n.id)
      ON CONFLICT DO NOTHING`),
    [userId, ids],
  );
}
