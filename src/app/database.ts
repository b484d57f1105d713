/**
 * The database an operator command (`verify`, `topics`, `dlq`) works on, chosen as the platform
 * chooses it: LEDGERFLOW_DATABASE_URL, else the embedded cluster of the data directory — the running
 * platform's when it answers on the socket in that directory (and serves that directory), else
 * started for the command. The description says which, so a command can tell what it checked.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../platform/config.ts";
import { attachOrStartEmbeddedPostgres, describeDatabaseUrl } from "../platform/db/embedded.ts";
import { loadOrCreateLocalSecrets } from "../platform/secrets.ts";
import type { Config } from "./config.ts";

export interface ToolDatabase {
  readonly url: string;
  /** Which database, for the command's output (no password). */
  readonly description: string;
  close(): Promise<void>;
}

export async function openToolDatabase(
  config: Readonly<Config>,
  url = config.database.url,
): Promise<ToolDatabase> {
  if (url) return { url, description: describeDatabaseUrl(url), close: async () => {} };
  const dataDir = resolve(config.dataDir);
  // A command never creates a platform's data: a wrong LEDGERFLOW_DATA_DIR is a usage error.
  if (!existsSync(join(dataDir, "pg", "PG_VERSION")))
    throw new ConfigError(
      `no Ledgerflow database in ${dataDir}: start the platform there first, or set LEDGERFLOW_DATA_DIR or LEDGERFLOW_DATABASE_URL`,
    );
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  const server = await attachOrStartEmbeddedPostgres({
    dataDir,
    port: config.database.embeddedPort,
    persistent: true,
    listenTcp: config.database.embeddedListenTcp,
    passwords: { superuser: secrets.postgresSuperuserPassword, app: secrets.postgresAppPassword },
  });
  return {
    url: server.url,
    description: server.attached ? server.description : `${server.description}, started for this command`,
    close: () => server.stop(),
  };
}
