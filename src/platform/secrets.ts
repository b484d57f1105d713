import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface LocalSecrets {
  readonly jwtSecret: string;
  /** Embedded PostgreSQL's superuser: used only to bootstrap the application role. */
  readonly postgresSuperuserPassword: string;
  /** Embedded PostgreSQL's application role (owns the `ledgerflow` database, not superuser). */
  readonly postgresAppPassword: string;
  /** AES-256 key for personal data at rest (identity profiles), 32 bytes base64url. */
  readonly piiKey: string;
}

const secretNames = ["jwtSecret", "postgresSuperuserPassword", "postgresAppPassword", "piiKey"] as const;
const secretBytes: Record<(typeof secretNames)[number], number> = {
  jwtSecret: 48,
  postgresSuperuserPassword: 24,
  postgresAppPassword: 24,
  piiKey: 32,
};

export function localSecretsFile(dataDir: string): string {
  return join(dataDir, "secrets.json");
}

/**
 * Embedded mode only: secrets not given in the environment are generated once and kept in the data
 * directory with mode 0600, so tokens and database passwords survive restarts. A file from an
 * earlier version gets the secrets it lacks added. Distributed mode must be given them.
 */
export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  await mkdir(dataDir, { recursive: true });
  const file = localSecretsFile(dataDir);
  const stored: Partial<Record<(typeof secretNames)[number], string>> = existsSync(file)
    ? JSON.parse(await readFile(file, "utf8"))
    : {};
  const missing = secretNames.filter((name) => typeof stored[name] !== "string");
  if (missing.length === 0) return stored as LocalSecrets;
  const secrets = { ...stored };
  for (const name of missing) secrets[name] = randomBytes(secretBytes[name]).toString("base64url");
  // Written aside and renamed, so a crash never leaves a half-written file (and a lost password).
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(secrets), { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return secrets as LocalSecrets;
}
