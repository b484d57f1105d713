/**
 * Screening benchmark (issue 14, "Measured"):
 * 1. the feeder loading 1,000,000 entries (900,000 IBANs + 100,000 names, a `lines` file) into
 *    PostgreSQL, end to end (read + parse + diff + store + swap), and the index built from it;
 * 2. the in-memory match (IBAN + user id exact; with a name, exact and fuzzy) against those lists;
 * 3. a transfer's path: the ledger's REAL applyCommandBatch, one transfer per batch, three ways
 *    interleaved (all see the same machine): without screening; screening with the receivers' names
 *    asked of identity's real profile store (PostgreSQL, legal names encrypted) on every batch; and
 *    screening with those names from the platform's cache (risk/party-names-cache.ts, polled), as
 *    the platform runs. 200 receivers, every other one with a misspelt listed name: half of the
 *    screened transfers are held for review (a pending transfer and a screening-log record), far
 *    more than real traffic. What screening adds to a transfer is its call's own time inside the
 *    path ("ADDED per transfer"); the difference of two paths' p99s is printed too, as what it is.
 * Names: 100,000 of 2 parts of 2–4 syllables each (18 consonants × 6 vowels, some with a closing
 * consonant): varied as a real list's names are. (An earlier corpus of 20 syllables made every name
 * share most of its letters with thousands of others, which no list does.)
 * Measured (session 8, 3 runs, load average 1.0–1.1 on 2 shared cores): the screening call with
 * cached names p50 0.065–0.068 ms, p99 0.94–1.08 ms over all transfers; cleared transfers p99
 * 0.70–0.81 ms; held ones p99 1.07–1.22 ms (their record's INSERT in the batch); names asked of
 * identity per batch instead: p50 0.71–0.73, p99 1.56–1.58 ms. What bounds the p99 now: young-
 * generation scavenges of 3.5–6.4 ms every ≈1.2 s with 1M entries in the heap (node --trace-gc)
 * and PostgreSQL on the same 2 cores. docs/performance.md has the table.
 * Run: node bench/screening.ts   (the machine's load average is printed with the results)
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { moduleMigrations } from "../src/app/modules.ts";
import { topicSpecs } from "../src/app/topology.ts";
import { noCommunityStats } from "../src/identity/profiles/community-store.ts";
import { createPiiCipher } from "../src/identity/profiles/pii-cipher.ts";
import { createPostgresProfileStore } from "../src/identity/profiles/postgres.ts";
import { createProfiles } from "../src/identity/profiles/profiles.ts";
import { applyCommandBatch } from "../src/ledger/apply-batch.ts";
import type { CommandScreening } from "../src/ledger/index.ts";
import { seededIds, seededRandom, systemClock, systemRandom } from "../src/platform/clock.ts";
import { migrate } from "../src/platform/db/migrate.ts";
import { createPool } from "../src/platform/db/pool.ts";
import { createPostgresLog } from "../src/platform/log/adapters/postgres.ts";
import { createPostgresListStore } from "../src/risk/adapters/postgres-lists.ts";
import { createPostgresScreeningLog } from "../src/risk/adapters/postgres-screenings.ts";
import { screenParty } from "../src/risk/domain/match.ts";
import { normaliseName } from "../src/risk/domain/names.ts";
import { feedList } from "../src/risk/feeder.ts";
import { cachedPartyNames, type PartyNameSource } from "../src/risk/party-names-cache.ts";
import { ScreeningIndex } from "../src/risk/screening-index.ts";
import { createScreener, type PartyNames } from "../src/risk/screenings.ts";
import {
  applyDeps,
  createAccountCommand,
  envelope,
  ledgerCodecs,
  transferCommand,
} from "../test/support/ledger-fixtures.ts";
import { startTestDatabase } from "../test/support/postgres.ts";

function iban(n: number): string {
  const bban = `LIST${String(n).padStart(10, "0")}`; // not the ledger's bank code: its accounts are not listed
  const digits = `${bban}NL00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  const check = 98 - Number(BigInt(digits) % 97n);
  return `NL${String(check).padStart(2, "0")}${bban}`;
}
const consonants = "bcdfghjklmnprstvwz";
const vowels = "aeiouy";
/** A deterministic word of `syllables` syllables from `seed` (a linear congruential sequence). */
function word(seed: number, syllables: number): string {
  let text = "";
  let x = seed;
  for (let i = 0; i < syllables; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    text += `${consonants[x % 18]}${vowels[Math.floor(x / 18) % 6]}`;
    if (x % 5 === 0) text += consonants[Math.floor(x / 108) % 18];
  }
  return text;
}
function name(n: number): string {
  return `${word(n * 7 + 1, 2 + (n % 3))} ${word(n * 13 + 5, 2 + (n % 2))}`;
}
/** 100,000 names distinct once normalised (the generator repeats a few), the list's. */
const listedNames: string[] = [];
for (let n = 0, seen = new Set<string>(); listedNames.length < 100_000; n++)
  if (!seen.has(normaliseName(name(n)))) {
    seen.add(normaliseName(name(n)));
    listedNames.push(name(n));
  }
/** A one-letter slip in the middle of a listed name. */
function misspelt(n: number): string {
  const listed = listedNames[n % listedNames.length] ?? "";
  const at = Math.floor(listed.length / 2) + 1;
  return `${listed.slice(0, at)}${listed[at] === "e" ? "a" : "e"}${listed.slice(at + 1)}`;
}
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

const ms = (sorted: number[], p: number) => percentile(sorted, p).toFixed(3);
const userId = "00000000-0000-4000-8000-000000000001";

async function loadList(pool: pg.Pool, dir: string) {
  const lines: string[] = [];
  for (let i = 0; i < 900_000; i++) lines.push(iban(i + 1));
  lines.push(...listedNames);
  const path = join(dir, "list.txt");
  await writeFile(path, `${lines.join("\n")}\n`);
  const store = createPostgresListStore(pool);
  const started = performance.now();
  const report = await feedList(store, {
    list: "bench",
    source: { kind: "file", path },
    format: "lines",
    limits: { bytesMax: 1 << 30, entriesMax: 5_000_000, lineBytesMax: 65_536 },
    fetchTimeoutMs: 1000,
    nowMs: Date.now,
  });
  const loadS = (performance.now() - started) / 1000;
  console.log(
    `feeder: ${report.entries} entries loaded in ${loadS.toFixed(2)} s (version ${report.version})`,
  );
  const indexStarted = performance.now();
  const index = new ScreeningIndex();
  await index.refresh(store);
  console.log(`index: built from PostgreSQL in ${((performance.now() - indexStarted) / 1000).toFixed(2)} s`);
  return index;
}

function measureMatch(index: ScreeningIndex, label: string, withName: boolean, count: number): void {
  const snapshots = index.snapshots();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const party = {
      iban: iban(i % 3 === 0 ? i + 1 : 2_000_000 + i),
      userId,
      ...(withName ? { name: misspelt(i * 17) } : {}),
    };
    const t = performance.now();
    screenParty(snapshots, party, 0.92);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `match in memory, ${label}: p50 ${ms(samples, 0.5)} ms, p99 ${ms(samples, 0.99)} ms (${count} parties)`,
  );
}

/** Times each screening call the ledger makes. */
function timed(screener: CommandScreening, timings: number[]): CommandScreening {
  return {
    async screen(requests, within) {
      const t = performance.now();
      const verdicts = await screener.screen(requests, within);
      timings.push(performance.now() - t);
      return verdicts;
    },
  };
}

/**
 * The receivers' names as their profiles give them, in identity's real profile store (PostgreSQL,
 * legal names encrypted) and read through its real `nameOf`: a misspelt listed name for every other
 * receiver (its transfers are held for review), an unlisted name for the others.
 */
async function receiverProfiles(pool: pg.Pool, ownerIds: readonly string[]): Promise<PartyNameSource> {
  const store = createPostgresProfileStore(pool);
  const cipher = createPiiCipher(randomBytes(32), [], systemRandom);
  // Written a minute ago: receivers do not rename themselves during the run (the cache's polls
  // would otherwise evict each name fetched within their look-back of its change).
  const atMs = Date.now() - 60_000;
  for (const [i, id] of ownerIds.entries()) {
    await pool.query(
      `INSERT INTO users (id, username, password_hash, roles) VALUES ($1, $2, '$argon2id$bench', '{customer}')`,
      [id, `bench-receiver-${i}`],
    );
    await store.ensure(id, `receiver ${i}`, atMs);
    const legalName = i % 2 ? misspelt(i * 31) : `${word(i, 3)} ${word(i * 3, 2)}`;
    await store.update(id, { legalNameEnc: cipher.encrypt("legalName", legalName) }, atMs);
  }
  const profiles = createProfiles({
    store,
    cipher,
    clock: systemClock,
    events: { publish: async () => {} },
    community: { of: async () => noCommunityStats },
  });
  return { namesOf: profiles.nameOf, changedSince: profiles.namesChangedSince };
}

/** Samples of one way of running the path: the whole path, and the screening call inside it. */
interface PathSamples {
  readonly label: string;
  readonly path: number[];
  readonly call: number[];
  readonly clearCall: number[];
  readonly heldCall: number[];
}

const pathSamples = (label: string): PathSamples => ({
  label,
  path: [],
  call: [],
  clearCall: [],
  heldCall: [],
});

function report(baseline: PathSamples, variants: readonly PathSamples[]) {
  for (const samples of [baseline, ...variants])
    for (const list of [samples.path, samples.call, samples.clearCall, samples.heldCall])
      list.sort((a, b) => a - b);
  const line = (label: string, sorted: number[]) =>
    console.log(`${label}: p50 ${ms(sorted, 0.5)} ms, p99 ${ms(sorted, 0.99)} ms (${sorted.length})`);
  line("transfer path without screening (applyCommandBatch, batch of 1)", baseline.path);
  for (const v of variants) {
    console.log(`— screening, names ${v.label}`);
    line("  transfer path", v.path);
    // What screening adds to a transfer is the time of its call inside the path (the ledger does
    // nothing else differently): its p99 is the added p99.
    line("  ADDED per transfer = the screening call inside the path", v.call);
    line("    for a cleared transfer (names, exact and fuzzy match)", v.clearCall);
    line("    for a held transfer (the same and its record's INSERT in the batch)", v.heldCall);
    const differs = (p: number) => (percentile(v.path, p) - percentile(baseline.path, p)).toFixed(3);
    console.log(
      `    (path percentiles minus the baseline's: p50 ${differs(0.5)} ms, p99 ${differs(0.99)} ms; a difference of two noisy tails, not a percentile of the added time)`,
    );
  }
}

async function measureTransferPath(
  pool: pg.Pool,
  screenerFor: (partyNames: PartyNames) => CommandScreening,
  transfers: number,
) {
  const codecs = await ledgerCodecs(pool);
  await createPostgresLog({ pool, lingerMs: 0 }).admin().createTopics(topicSpecs(1));
  let now = 1_700_000_000_000;
  const plain = applyDeps(pool, codecs, () => now++);
  const ids = seededIds(seededRandom(7));
  const ownerIds = Array.from({ length: 200 }, () => ids.uuid());
  const identityNames = await receiverProfiles(pool, ownerIds);
  const cached = cachedPartyNames(identityNames, cacheLimits, Date.now);
  const poller = setInterval(() => void cached.poll(), cacheLimits.pollIntervalMs);
  const baseline = pathSamples("none");
  const ways = [
    { samples: pathSamples("asked of identity per batch (no cache)"), names: identityNames as PartyNames },
    { samples: pathSamples("from the platform's cache (party-names-cache.ts, polled)"), names: cached },
  ].map((way) => {
    const calls: number[] = [];
    return { ...way, calls, deps: { ...plain, screening: timed(screenerFor(way.names), calls) } };
  });
  const apply = (deps: typeof plain, commands: Parameters<typeof envelope>[0][]) =>
    applyCommandBatch(
      deps,
      commands.map((c) => envelope(c)),
    );
  const treasury = await apply(plain, [createAccountCommand(ids, { ownerId: "bank", system: true })]);
  const from = treasury.outcomes[0]?.result.iban as string;
  const created = await apply(
    plain,
    ownerIds.map((ownerId) => createAccountCommand(ids, { ownerId })),
  );
  const to = created.outcomes.map((o) => o.result.iban as string);
  for (let i = 0; i < transfers; i++) {
    const way = i % 3 === 0 ? undefined : ways[(i % 3) - 1]; // interleaved: all see the same machine
    const receiver = Math.floor(i / 3) % to.length;
    const command = transferCommand(ids, { from, to: to[receiver] ?? from, amount: 1n });
    const t = performance.now();
    const result = await apply(way ? way.deps : plain, [command]);
    const tookMs = performance.now() - t;
    (way ? way.samples : baseline).path.push(tookMs);
    if (way) {
      const call = way.calls.at(-1) ?? 0;
      way.samples.call.push(call);
      // Receivers at odd positions have a misspelt listed name: their transfers are held for review.
      (receiver % 2 === 1 ? way.samples.heldCall : way.samples.clearCall).push(call);
    }
    if (result.outcomes[0]?.status !== "CONFIRMED")
      throw new Error(`a bench transfer did not confirm: ${JSON.stringify(result.outcomes[0])}`);
  }
  clearInterval(poller);
  report(
    baseline,
    ways.map((way) => way.samples),
  );
}

/** The platform's defaults (risk config) and constants (risk/module.ts). */
const cacheLimits = {
  ttlMs: 300_000,
  entriesMax: 200_000,
  pollIntervalMs: 1_000,
  overlapMs: 10_000,
  changesPerPollMax: 10_000,
};

const db = await startTestDatabase();
const dir = await mkdtemp(join(tmpdir(), "ledgerflow-bench-screening-"));
// The platform's default statement timeout (30 s), as the feeder command has; the test pool's is shorter.
const pool = createPool({ url: db.url, connectionsMax: 4, statementTimeoutMs: 30_000 });
try {
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")}`,
  );
  await migrate(pool, moduleMigrations);
  const index = await loadList(pool, dir);
  measureMatch(index, "IBAN + user id (exact)", false, 100_000);
  measureMatch(index, "IBAN + user id + misspelt name (exact and fuzzy)", true, 5_000);
  const screenerFor = (partyNames: PartyNames) =>
    createScreener({
      index,
      log: createPostgresScreeningLog(pool),
      reviewThreshold: 0.92,
      nowMs: Date.now,
      partyNames,
    });
  await measureTransferPath(pool, screenerFor, 9_000);
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await pool.end();
  await db.close();
}
