/**
 * What the operator tools (`topics`, `dlq`) need from a configuration: a database pool, the log
 * and the schema registry, chosen exactly as the platform chooses them (src/app/platform.ts).
 * In embedded mode the tools attach to the running server's PostgreSQL when it is up, and start
 * the embedded cluster of the data directory themselves when it is not (src/app/database.ts).
 */
import type pg from "pg";
import type { Config } from "../app/config.ts";
import { openToolDatabase } from "../app/database.ts";
import { moduleMigrations } from "../app/modules.ts";
import { createConfiguredLog, createConfiguredRegistry, instanceIdOf } from "../app/platform.ts";
import { systemClock } from "../platform/clock.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPool } from "../platform/db/pool.ts";
import type { Log } from "../platform/log/port.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";

export interface ToolContext {
  readonly config: Readonly<Config>;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  /** Which database the tool works on (for its output). */
  readonly database: string;
  close(): Promise<void>;
}

export async function openToolContext(config: Readonly<Config>): Promise<ToolContext> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of closers.reverse()) await step().catch(() => {});
  };
  try {
    const database = await openToolDatabase(config);
    closers.push(() => database.close());
    const url = database.url;
    const pool = createPool({
      url,
      connectionsMax: 4,
      statementTimeoutMs: config.database.statementTimeoutMs,
    });
    closers.push(() => pool.end());
    await migrate(pool, moduleMigrations);
    const log = createConfiguredLog(config, pool, systemClock, `${instanceIdOf(config)}-tool`);
    closers.push(() => log.close());
    return {
      config,
      pool,
      log,
      registry: createConfiguredRegistry(config, pool),
      database: database.description,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
