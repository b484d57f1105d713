/**
 * The screener's holds on real PostgreSQL, under redelivery: a hold on a similar name keeps its
 * list version and review after the list changed; velocity facts are recorded once per command, so
 * a redelivered batch decides as the first delivery did, held or clear.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { moduleMigrations } from "../app/modules.ts";
import type { ScreeningRequest } from "../ledger/index.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPostgresListStore } from "./adapters/postgres-lists.ts";
import { createPostgresRuleFacts } from "./adapters/postgres-reviews.ts";
import { createPostgresScreeningLog } from "./adapters/postgres-screenings.ts";
import { diffList, keyed } from "./domain/diff.ts";
import { entryOfLine, type ListEntry } from "./domain/entries.ts";
import { ScreeningIndex } from "./screening-index.ts";
import { createScreener } from "./screenings.ts";

let db: TestDatabase;
const t0 = 1_700_000_000_000;
const meta = { source: "test", format: "lines", atMs: t0 };
const entries = (...lines: string[]) => keyed(lines.map((line) => entryOfLine(line) as ListEntry));
const hansId = "00000000-0000-4000-8000-0000000000aa";

before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
});
after(async () => {
  await db?.close();
});

let serial = 0;
function request(overrides: Partial<ScreeningRequest> = {}): ScreeningRequest {
  serial += 1;
  return {
    commandId: `10000000-0000-4000-8000-${String(serial).padStart(12, "0")}`,
    ...{ kind: "transfer", partyRole: "receiver", actorId: "a", amount: 100n, asset: "EUR" },
    party: { iban: "NL02OPEN0000000002", userId: "00000000-0000-4000-8000-000000000002" },
    counterpartyIban: "NL01OPEN0000000001",
    issuedAtMs: t0 + serial,
    ...overrides,
  };
}

describe("holds under redelivery", () => {
  test("a similar name holds with its list version; screened again after the list changed: the same hold", async () => {
    const store = createPostgresListStore(db.pool);
    await store.saveVersion("fraud", 0, diffList(new Set(), entries("Müller, Hans")), meta);
    const index = new ScreeningIndex();
    await index.refresh(store);
    const log = createPostgresScreeningLog(db.pool);
    const partyNames = { namesOf: async () => new Map([[hansId, "Hans Mueller"]]) };
    const screener = createScreener({
      index,
      log,
      reviewThreshold: 0.92,
      reviewTimeoutMs: 5_000,
      partyNames,
      nowMs: () => t0,
    });
    const held = request({ party: { iban: "NL03OPEN0000000003", userId: hansId } });
    const verdict = { decision: "hold", reviewId: held.commandId, timeoutMs: 5_000 };
    assert.deepEqual((await screener.screen([held])).get(held.commandId), verdict);
    const current = await store.currentKeys("fraud");
    await store.saveVersion("fraud", current.version, diffList(current.keys, entries("Petrov, Ivan")), meta);
    await index.refresh(store);
    assert.deepEqual((await screener.screen([held])).get(held.commandId), verdict);
    assert.equal(
      (await screener.screen([request({ party: held.party })])).size,
      0,
      "a new command sees the new list",
    );
    const record = (await log.find([held.commandId])).get(held.commandId);
    assert.deepEqual(
      [record?.decision, record?.list, record?.listVersion, record?.partyName, record?.entryDisplay],
      ["hold", "fraud", 1, "Hans Mueller", "Müller, Hans"],
    );
    assert.ok(record && record.score !== null && record.score >= 0.92 && record.score < 1);
  });

  test("velocity: facts are kept once per command, so a redelivered batch decides the same", async () => {
    const facts = createPostgresRuleFacts(db.pool);
    const screener = createScreener({
      index: new ScreeningIndex(),
      log: createPostgresScreeningLog(db.pool),
      reviewThreshold: 0.92,
      rules: [{ kind: "velocity", transfersMax: 2, windowMs: 60_000 }],
      facts,
      nowMs: () => t0,
    });
    const sender = { counterpartyIban: "NL09OPEN0000000009" };
    const batch = [request(sender), request(sender), request(sender)];
    const first = await screener.screen(batch);
    assert.deepEqual(
      batch.map((r) => first.get(r.commandId)?.decision ?? "clear"),
      ["clear", "clear", "hold"],
    );
    const again = await screener.screen(batch);
    assert.deepEqual(
      batch.map((r) => again.get(r.commandId)?.decision ?? "clear"),
      ["clear", "clear", "hold"],
      "a redelivered batch decides as the first delivery did",
    );
    const pruned = await facts.prune(t0 + 1_000_000, 100);
    assert.ok(pruned >= 3);
  });
});
