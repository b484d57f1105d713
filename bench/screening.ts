/**
 * Screening benchmark: feeder load time for 1,000,000 entries into PostgreSQL, then screening
 * latency (p50/p99) against 1,000,000 exact entries and 100,000 names: the in-memory match alone,
 * and the screener's call per command as the handler makes it (match + screening-log lookup).
 * Run: node bench/screening.ts
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { moduleMigrations } from "../src/app/modules.ts";
import { migrate } from "../src/platform/db/migrate.ts";
import { createPool } from "../src/platform/db/pool.ts";
import { createPostgresListStore } from "../src/risk/adapters/postgres-lists.ts";
import { createPostgresScreeningLog } from "../src/risk/adapters/postgres-screenings.ts";
import { screenParty } from "../src/risk/domain/match.ts";
import { feedList } from "../src/risk/feeder.ts";
import { ScreeningIndex } from "../src/risk/screening-index.ts";
import { createScreener } from "../src/risk/screenings.ts";
import { startTestDatabase } from "../test/support/postgres.ts";

function iban(n: number): string {
  const bban = `OPEN${String(n).padStart(10, "0")}`;
  const digits = `${bban}NL00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  const check = 98 - Number(BigInt(digits) % 97n);
  return `NL${String(check).padStart(2, "0")}${bban}`;
}
const syllables = [
  "an",
  "be",
  "co",
  "da",
  "el",
  "fi",
  "go",
  "ha",
  "is",
  "jo",
  "ka",
  "lu",
  "mo",
  "ni",
  "or",
  "pa",
  "ri",
  "sa",
  "tu",
  "vi",
];
function name(n: number): string {
  const word = (k: number) =>
    [k % 20, Math.floor(k / 20) % 20, Math.floor(k / 400) % 20].map((i) => syllables[i] ?? "").join("");
  return `${word(n % 8000)} z${word(Math.floor(n / 8000))}`;
}
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

const db = await startTestDatabase();
const dir = await mkdtemp(join(tmpdir(), "ledgerflow-bench-screening-"));
// The platform's default statement timeout (30 s), as the feeder command has; the test pool's is shorter.
const pool = createPool({ url: db.url, connectionsMax: 4, statementTimeoutMs: 30_000 });
try {
  await migrate(pool, moduleMigrations);
  const lines: string[] = [];
  for (let i = 0; i < 900_000; i++) lines.push(iban(i + 1));
  for (let i = 0; i < 100_000; i++) lines.push(name(i));
  const path = join(dir, "list.txt");
  await writeFile(path, `${lines.join("\n")}\n`);
  const store = createPostgresListStore(pool);
  const limits = { bytesMax: 1 << 30, entriesMax: 5_000_000, lineBytesMax: 65_536 };
  const started = performance.now();
  const report = await feedList(store, {
    list: "bench",
    source: { kind: "file", path },
    format: "lines",
    limits,
    fetchTimeoutMs: 1000,
    nowMs: Date.now,
  });
  const loadMs = performance.now() - started;
  console.log(
    `feeder: ${report.entries} entries loaded in ${(loadMs / 1000).toFixed(2)} s (version ${report.version})`,
  );
  const indexStarted = performance.now();
  const index = new ScreeningIndex();
  await index.refresh(store);
  console.log(`index: built from PostgreSQL in ${((performance.now() - indexStarted) / 1000).toFixed(2)} s`);
  const snapshots = index.snapshots();
  const measure = (label: string, withName: boolean, count: number) => {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const party = {
        iban: iban(i % 3 === 0 ? i + 1 : 2_000_000 + i),
        userId: "00000000-0000-4000-8000-000000000001",
        ...(withName ? { name: i % 2 ? name(i) : `${name(i)}x` } : {}),
      };
      const t = performance.now();
      screenParty(snapshots, party, 0.92);
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const us = (p: number) => (percentile(samples, p) * 1000).toFixed(1);
    console.log(`match in memory, ${label}: p50 ${us(0.5)} µs, p99 ${us(0.99)} µs (${count} parties)`);
  };
  measure("IBAN + user id (exact)", false, 100_000);
  measure("IBAN + user id + name (exact and fuzzy)", true, 5_000);
  const screener = createScreener({
    index,
    log: createPostgresScreeningLog(pool),
    reviewThreshold: 0.92,
    nowMs: Date.now,
  });
  const calls: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    const request = {
      commandId: crypto.randomUUID(),
      ...{ kind: "transfer" as const, partyRole: "receiver" as const },
      party: { iban: iban(2_000_000 + i), userId: "00000000-0000-4000-8000-000000000001" },
      ...{ counterpartyIban: iban(1), actorId: "bench", amount: 1n, asset: "EUR", issuedAtMs: 0 },
    };
    const t = performance.now();
    await screener.screen([request]);
    calls.push(performance.now() - t);
  }
  calls.sort((a, b) => a - b);
  console.log(
    `screener per command (match + screening-log lookup, batch of 1): p50 ${percentile(calls, 0.5).toFixed(3)} ms, p99 ${percentile(calls, 0.99).toFixed(3)} ms`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await pool.end();
  await db.close();
}
