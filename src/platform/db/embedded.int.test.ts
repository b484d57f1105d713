/**
 * Embedded PostgreSQL against a real cluster: a second cluster on a port that is already taken must
 * fail with a clear error instead of quietly using the first cluster's data.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { freePort } from "../../../test/support/ports.ts";
import { InfrastructureError } from "../errors.ts";
import { startEmbeddedPostgres } from "./embedded.ts";

async function clusterDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ledgerflow-embedded-"));
  // As root PostgreSQL runs as its own user and must be able to enter the directory.
  await chmod(dir, 0o755);
  return dir;
}

test("a second embedded cluster on a taken port fails clearly and leaves the first one's data alone", {
  timeout: 120_000,
}, async () => {
  const firstDir = await clusterDir();
  const secondDir = await clusterDir();
  const port = await freePort();
  const first = await startEmbeddedPostgres({ dataDir: firstDir, port, persistent: false });
  try {
    await assert.rejects(
      startEmbeddedPostgres({ dataDir: secondDir, port, persistent: false }),
      (error: unknown) => {
        assert.ok(error instanceof InfrastructureError, String(error));
        assert.equal(error.code, "embedded_postgres_failed");
        assert.match(error.message, /LEDGERFLOW_EMBEDDED_PG_PORT/);
        assert.match(error.message, new RegExp(String(port)));
        return true;
      },
    );
    // The first cluster still answers, and for its own directory.
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    try {
      const { rows } = await client.query("SHOW data_directory");
      assert.ok(String(rows[0].data_directory).startsWith(firstDir), rows[0].data_directory);
    } finally {
      await client.end();
    }
  } finally {
    await first.stop();
    await rm(firstDir, { recursive: true, force: true });
    await rm(secondDir, { recursive: true, force: true });
  }
});
