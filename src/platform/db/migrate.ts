import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type pg from "pg";
import { inTransaction } from "./pool.ts";

/** The platform's own migrations (log, schema registry, dead-letter replays). */
export const platformMigrations = join(import.meta.dirname, "migrations");

/**
 * Applies the `NNNN_name.sql` files of the platform and of `moduleDirs` (each module's migrations)
 * in name order, each once, under an advisory lock so that several processes starting together do
 * not race. Names are unique across directories (the number says when a migration was written).
 */
export async function migrate(pool: pg.Pool, moduleDirs: readonly string[] = []): Promise<readonly string[]> {
  const paths = new Map<string, string>();
  for (const dir of [platformMigrations, ...moduleDirs])
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".sql"))) {
      const other = paths.get(file);
      if (other && other !== join(dir, file)) throw new Error(`migration ${file} exists twice: ${other}`);
      paths.set(file, join(dir, file));
    }
  const files = [...paths.keys()].sort();
  return inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(727274)");
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await client.query("SELECT name FROM schema_migrations")).rows.map((r) => r.name as string),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query(await readFile(paths.get(file) as string, "utf8"));
      await client.query("INSERT INTO schema_migrations (name) VALUES ($1)", [basename(file)]);
      applied.push(file);
    }
    return applied;
  });
}
