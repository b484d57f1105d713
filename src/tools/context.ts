/**
 * What the operator tools (`topics`, `dlq`) need from a configuration: a database pool, the log
 * and the schema registry, chosen exactly as the platform chooses them (src/app/platform.ts).
 * In embedded mode the tools attach to the running server's PostgreSQL when it is up, and start
 * the embedded cluster of the data directory themselves when it is not.
 */
import { resolve } from "node:path";
import pg from "pg";
import type { Config } from "../app/config.ts";
import { moduleMigrations } from "../app/modules.ts";
import { createConfiguredLog, createConfiguredRegistry, instanceIdOf } from "../app/platform.ts";
import { systemClock } from "../platform/clock.ts";
import { startEmbeddedPostgres } from "../platform/db/embedded.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPool } from "../platform/db/pool.ts";
import type { Log } from "../platform/log/port.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";

export interface ToolContext {
  readonly config: Readonly<Config>;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  close(): Promise<void>;
}

/** The URL src/platform/db/embedded.ts serves (its local-only superuser). */
function embeddedUrl(port: number): string {
  return `postgres://postgres:ledgerflow-local@127.0.0.1:${port}/postgres`;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function openToolContext(config: Readonly<Config>): Promise<ToolContext> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of closers.reverse()) await step().catch(() => {});
  };
  try {
    let url = config.database.url;
    if (!url) {
      url = embeddedUrl(config.database.embeddedPort);
      if (!(await answers(url))) {
        const embedded = await startEmbeddedPostgres({
          dataDir: resolve(config.dataDir),
          port: config.database.embeddedPort,
          persistent: true,
        });
        closers.push(() => embedded.stop());
        url = embedded.url;
      }
    }
    const pool = createPool({
      url,
      connectionsMax: 4,
      statementTimeoutMs: config.database.statementTimeoutMs,
    });
    closers.push(() => pool.end());
    await migrate(pool, moduleMigrations);
    const log = createConfiguredLog(config, pool, systemClock, `${instanceIdOf(config)}-tool`);
    closers.push(() => log.close());
    return { config, pool, log, registry: createConfiguredRegistry(config, pool), close };
  } catch (error) {
    await close();
    throw error;
  }
}
