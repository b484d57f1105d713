/**
 * The list store on real PostgreSQL and the feeder command: versions saved as differences and read
 * back between versions, the expected-version guard, and `ledgerflow feeder` with its counts, line
 * numbers and exit codes. (A command's first decision kept across a list change is tested through
 * the ledger's batch in screenings.int.test.ts.)
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { moduleMigrations } from "../app/modules.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPostgresListStore } from "./adapters/postgres-lists.ts";
import { diffList, keyed } from "./domain/diff.ts";
import { entryOfLine, type ListEntry } from "./domain/entries.ts";
import { ConcurrentLoadError } from "./lists.ts";
import { ScreeningIndex } from "./screening-index.ts";

let db: TestDatabase;
let dir: string;
const meta = { source: "test", format: "lines", atMs: 1_700_000_000_000 };
const entries = (...lines: string[]) => keyed(lines.map((line) => entryOfLine(line) as ListEntry));
const listedIban = "NL91ABNA0417164300";

before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
  dir = await mkdtemp(join(tmpdir(), "ledgerflow-lists-"));
});
after(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("PostgreSQL list store", () => {
  test("versions are saved as differences; the index follows them; a stale load is refused", async () => {
    const store = createPostgresListStore(db.pool);
    const v1 = entries(listedIban, "Jan de Vries", "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    assert.equal(await store.saveVersion("store", 0, diffList(new Set(), v1), meta), 1);
    const index = new ScreeningIndex();
    await index.refresh(store);
    assert.equal(index.snapshots()[0]?.ibans.has(listedIban), true);
    const current = await store.currentKeys("store");
    const v2 = entries("Jan de Vries", "Piet Jansen");
    assert.equal(await store.saveVersion("store", current.version, diffList(current.keys, v2), meta), 2);
    await assert.rejects(
      store.saveVersion("store", 1, diffList(current.keys, v2), meta),
      ConcurrentLoadError,
    );
    await index.refresh(store);
    const snapshot = index.snapshots().find((s) => s.list === "store");
    assert.deepEqual(
      [
        snapshot?.version,
        snapshot?.ibans.size,
        snapshot?.users.size,
        [...(snapshot?.names.keys() ?? [])].sort(),
      ],
      [2, 0, 0, ["de jan vries", "jansen piet"]],
    );
    const changes = await store.changesBetween("store", 0, 2);
    assert.equal(changes.added.length, 2);
    const [info] = (await store.versions()).filter((v) => v.list === "store");
    assert.deepEqual(
      [info?.version, info?.entries, info?.added, info?.removed, info?.unchanged],
      [2, 2, 1, 2, 1],
    );
  });
});

describe("ledgerflow feeder", () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [join(import.meta.dirname, "..", "main.ts"), "feeder", ...args], {
      env: { ...process.env, LEDGERFLOW_DATABASE_URL: db.url, NO_COLOR: "1" },
    }).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );

  test("loads a CSV list and reports its counts; a bad line exits 1 naming it; usage errors exit 2", async () => {
    const csv = join(dir, "list.csv");
    await writeFile(csv, `name,iban,notes\n"Vries, Jan de",${listedIban},x\nPiet Jansen,,\n`);
    const loaded = await run(["--file", csv, "--list", "cli"]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(
      loaded.stdout,
      /list cli: version 1 in force \(was 0\); 3 entries: 3 added, 0 removed, 0 unchanged/,
    );
    await writeFile(csv, `name,iban\nPiet Jansen,\nJan,NL91ABNA0417164301\n`);
    const rejected = await run(["--file", csv, "--list", "cli"]);
    assert.equal(rejected.code, 1);
    assert.match(
      rejected.stderr,
      /line 3: IBAN "NL91ABNA0417164301" has wrong check digits; the version in force stays/,
    );
    const sdn = join(dir, "sdn.csv");
    await writeFile(
      sdn,
      `36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. 'BNC'."\n\u001a\n`,
    );
    const ofac = await run(["--file", sdn, "--list", "ofac", "--json"]);
    assert.equal(ofac.code, 0, ofac.stderr);
    assert.equal(JSON.parse(ofac.stdout).added, 2);
    assert.equal((await run(["--list", "cli"])).code, 2);
    assert.equal((await run(["--file", csv, "--format", "xml"])).code, 2);
    assert.equal((await run(["--file", join(dir, "missing.txt")])).code, 1);
  });
});
