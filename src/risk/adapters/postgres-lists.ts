/** Screening lists in PostgreSQL (see migrations/0020_risk.sql and lists.ts). */
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { inTransaction } from "../../platform/db/pool.ts";
import type { ListDiff } from "../domain/diff.ts";
import type { EntryKind } from "../domain/entries.ts";
import {
  ConcurrentLoadError,
  type ListChanges,
  type ListStore,
  type ListVersionInfo,
  type VersionMeta,
} from "../lists.ts";

/** COPY text format: backslash, tab and line breaks escaped (names have no others, see entries.ts). */
function copyField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

async function* copyRows(list: string, version: number, diff: ListDiff): AsyncGenerator<string> {
  const rowsPerChunk = 5_000;
  let chunk = "";
  let rows = 0;
  for (const entry of diff.added) {
    chunk += `${list}\t${entry.kind}\t${copyField(entry.value)}\t${copyField(entry.display)}\t${version}\n`;
    if (++rows % rowsPerChunk === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}

function splitKey(key: string): [EntryKind, string] {
  const colon = key.indexOf(":");
  return [key.slice(0, colon) as EntryKind, key.slice(colon + 1)];
}

async function saveVersion(
  pool: pg.Pool,
  list: string,
  expectedVersion: number,
  diff: ListDiff,
  meta: VersionMeta,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query("INSERT INTO risk_lists (list, version) VALUES ($1, 0) ON CONFLICT DO NOTHING", [
      list,
    ]);
    const { rows } = await client.query("SELECT version FROM risk_lists WHERE list = $1 FOR UPDATE", [list]);
    const found = Number(rows[0]?.version ?? 0);
    if (found !== expectedVersion) throw new ConcurrentLoadError(list, expectedVersion, found);
    const version = found + 1;
    const removed = diff.removed.map(splitKey);
    await client.query(
      `UPDATE risk_list_entries e SET removed_version = $2
         FROM unnest($3::text[], $4::text[]) AS gone (kind, value)
        WHERE e.list = $1 AND e.removed_version IS NULL AND e.kind = gone.kind AND e.value = gone.value`,
      [list, version, removed.map(([kind]) => kind), removed.map(([, value]) => value)],
    );
    if (diff.added.length > 0)
      await pipeline(
        copyRows(list, version, diff),
        client.query(
          copyFrom("COPY risk_list_entries (list, kind, value, display, added_version) FROM STDIN"),
        ),
      );
    await client.query("UPDATE risk_lists SET version = $2 WHERE list = $1", [list, version]);
    await client.query(
      `INSERT INTO risk_list_versions (list, version, loaded_at, source, format, entries, added, removed, unchanged)
       VALUES ($1, $2, to_timestamp($3 / 1000.0), $4, $5, $6, $7, $8, $9)`,
      [
        ...[list, version, meta.atMs, meta.source, meta.format],
        ...[
          diff.added.length + diff.unchangedCount,
          diff.added.length,
          diff.removed.length,
          diff.unchangedCount,
        ],
      ],
    );
    return version;
  });
}

function versionFromRow(row: Record<string, unknown>): ListVersionInfo {
  return {
    list: row.list as string,
    version: Number(row.version),
    loadedAtMs: Number(row.loaded_at_ms),
    source: row.source as string,
    format: row.format as string,
    entries: Number(row.entries),
    added: Number(row.added),
    removed: Number(row.removed),
    unchanged: Number(row.unchanged),
  };
}

async function changesBetween(pool: pg.Pool, list: string, from: number, to: number): Promise<ListChanges> {
  const added = await pool.query({
    text: `SELECT kind, value, display FROM risk_list_entries
            WHERE list = $1 AND added_version > $2 AND added_version <= $3
              AND (removed_version IS NULL OR removed_version > $3)`,
    values: [list, from, to],
    rowMode: "array",
  });
  const removed = await pool.query({
    text: `SELECT kind, value FROM risk_list_entries
            WHERE list = $1 AND removed_version > $2 AND removed_version <= $3 AND added_version <= $2`,
    values: [list, from, to],
    rowMode: "array",
  });
  return {
    added: added.rows.map(([kind, value, display]) => ({ kind, value, display })),
    removed: removed.rows.map(([kind, value]) => ({ kind, value })),
  };
}

export function createPostgresListStore(pool: pg.Pool): ListStore {
  return {
    async currentVersions() {
      const { rows } = await pool.query("SELECT list, version FROM risk_lists WHERE version > 0");
      return new Map(rows.map((row) => [row.list as string, Number(row.version)]));
    },
    async versions() {
      const { rows } = await pool.query(
        `SELECT v.*, (extract(epoch FROM v.loaded_at) * 1000)::bigint AS loaded_at_ms
           FROM risk_lists l JOIN risk_list_versions v ON v.list = l.list AND v.version = l.version
          ORDER BY l.list`,
      );
      return rows.map(versionFromRow);
    },
    async currentKeys(list) {
      return inTransaction(pool, async (client) => {
        // One snapshot for the version and its keys (REPEATABLE READ).
        await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        const { rows } = await client.query("SELECT version FROM risk_lists WHERE list = $1", [list]);
        const keys = await client.query({
          text: "SELECT kind || ':' || value FROM risk_list_entries WHERE list = $1 AND removed_version IS NULL",
          values: [list],
          rowMode: "array",
        });
        return {
          version: Number(rows[0]?.version ?? 0),
          keys: new Set(keys.rows.map((row) => row[0] as string)),
        };
      });
    },
    saveVersion: (list, expectedVersion, diff, meta) => saveVersion(pool, list, expectedVersion, diff, meta),
    changesBetween: (list, from, to) => changesBetween(pool, list, from, to),
  };
}
