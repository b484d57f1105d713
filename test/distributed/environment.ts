/**
 * What the distributed scenarios share: the services' connection settings (`.services/env`, written
 * by `npm run services:up`), the environment of the platform processes they start, and a fresh
 * database per run.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

export function readServicesEnv(projectDir: string): Record<string, string> {
  const file = join(projectDir, ".services", "env");
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run services:up\` first`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  for (const key of ["LEDGERFLOW_KAFKA_BROKERS", "LEDGERFLOW_DATABASE_URL", "LEDGERFLOW_SCHEMA_REGISTRY_URL"])
    assert.ok(env[key], `${key} is in .services/env`);
  return env;
}

/** The environment of platform processes: the services' settings, none of the caller's LEDGERFLOW_*. */
export function platformEnv(
  services: Record<string, string>,
  settings: { databaseUrl: string; jwtSecret: string; adminPassword: string },
): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("LEDGERFLOW_")),
  );
  return {
    ...base,
    ...services,
    LEDGERFLOW_DATABASE_URL: settings.databaseUrl,
    LEDGERFLOW_MODE: "distributed",
    LEDGERFLOW_JWT_SECRET: settings.jwtSecret,
    // Any 32 bytes: the scenarios' profiles need no key kept across runs.
    LEDGERFLOW_PII_KEY: Buffer.alloc(32, 7).toString("base64url"),
    LEDGERFLOW_ADMIN_PASSWORD: settings.adminPassword,
    LEDGERFLOW_LOG_LEVEL: "warn",
    // A killed handler's partitions move after this long without heartbeats.
    LEDGERFLOW_KAFKA_SESSION_TIMEOUT_MS: "6000",
    // The registration limiter counts per client in Redis, which outlives a run: every scenario
    // registers from 127.0.0.1, and a few runs within its window would be refused (429).
    LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX: "1000000",
  };
}

/** A new database named `<prefix><now>`; earlier runs' databases of that prefix are dropped first. */
export async function freshDatabase(adminUrl: string, prefix: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const old = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
    for (const row of old.rows) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    const name = `${prefix}${Date.now()}`;
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  } finally {
    await admin.end();
  }
}
