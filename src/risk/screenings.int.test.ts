/**
 * The screener in the ledger's batch on real PostgreSQL (the real applyCommandBatch and ledger
 * store): a hold or a block is recorded in the batch's own transaction, so exactly once and only
 * when the batch commits; a redelivered command keeps the outcome its batch committed after the
 * list changed, without being screened again; two handlers deciding one batch leave one outcome and
 * one record; velocity facts are kept once per command, so a batch screened again decides the same.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  applyDeps,
  createAccountCommand,
  envelope,
  ledgerCodecs,
  transferCommand,
} from "../../test/support/ledger-fixtures.ts";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { moduleMigrations } from "../app/modules.ts";
import { type ApplyBatchDeps, applyCommandBatch } from "../ledger/apply-batch.ts";
import type { LedgerCommand } from "../ledger/domain/types.ts";
import type { CommandScreening, ScreeningRequest } from "../ledger/index.ts";
import type { LedgerStore } from "../ledger/store.ts";
import { seededIds, seededRandom } from "../platform/clock.ts";
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
const ids = seededIds(seededRandom(14));
const hansId = "00000000-0000-4000-8000-0000000000aa";
const malloryId = "00000000-0000-4000-8000-0000000000bb";

/** The ledger with the risk screener plugged in; `screened` lists the command ids it was asked about. */
let ledger: ApplyBatchDeps;
let screened: string[];
let index: ScreeningIndex;
let world: { alice: string; hans: string; mallory: string };

async function openWorld(plain: ApplyBatchDeps) {
  const apply = (commands: LedgerCommand[]) =>
    applyCommandBatch(
      plain,
      commands.map((c) => envelope(c)),
    );
  const opened = await apply([
    createAccountCommand(ids, { ownerId: "bank", system: true }),
    ...["00000000-0000-4000-8000-0000000000a1", hansId, malloryId].map((ownerId) =>
      createAccountCommand(ids, { ownerId }),
    ),
  ]);
  const [treasury, alice, hans, mallory] = opened.outcomes.map((o) => o.result.iban as string) as [
    string,
    string,
    string,
    string,
  ];
  const funded = await apply([transferCommand(ids, { from: treasury, to: alice, amount: 10_000n })]);
  assert.equal(funded.outcomes[0]?.status, "CONFIRMED");
  return { alice, hans, mallory };
}

function counting(screener: CommandScreening): CommandScreening {
  return {
    screen(requests: readonly ScreeningRequest[], within) {
      screened.push(...requests.map((request) => request.commandId));
      return screener.screen(requests, within);
    },
  };
}

before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
  const plain = applyDeps(db.pool, await ledgerCodecs(db.pool), () => t0);
  world = await openWorld(plain);
  const lists = createPostgresListStore(db.pool);
  await lists.saveVersion("fraud", 0, diffList(new Set(), entries("Müller, Hans", world.mallory)), meta);
  index = new ScreeningIndex();
  await index.refresh(lists);
  const screener = createScreener({
    index,
    log: createPostgresScreeningLog(db.pool),
    reviewThreshold: 0.92,
    reviewTimeoutMs: 5_000,
    partyNames: { namesOf: async () => new Map([[hansId, "Hans Mueller"]]) },
    nowMs: () => t0,
  });
  ledger = { ...plain, screening: counting(screener) };
  screened = [];
});
after(async () => {
  await db?.close();
});

/** A store whose every transaction fails after its work, before COMMIT (a crash at that point). */
function crashingBeforeCommit(store: LedgerStore): LedgerStore {
  return {
    transaction: (work) =>
      store.transaction(async (tx) => {
        await work(tx);
        throw new Error("crash before commit");
      }),
  };
}

async function recordsOf(commandId: string) {
  const { rows } = await db.pool.query(
    "SELECT decision, list, list_version, party_name, entry_display, score FROM risk_screenings WHERE command_id = $1",
    [commandId],
  );
  return rows;
}

const transferTo = (to: string, commandId?: string) =>
  transferCommand(ids, { from: world.alice, to, amount: 100n, ...(commandId ? { commandId } : {}) });

describe("decisions recorded in the ledger batch's transaction", () => {
  const heldId = "20000000-0000-4000-8000-000000000001";
  const blockedId = "20000000-0000-4000-8000-000000000002";

  test("a batch that does not commit leaves no decision; its redelivery is screened anew and recorded once", async () => {
    const held = envelope(transferTo(world.hans, heldId));
    const crashing = { ...ledger, store: crashingBeforeCommit(ledger.store) };
    await assert.rejects(applyCommandBatch(crashing, [held]), /crash before commit/);
    assert.deepEqual(screened, [heldId], "the first delivery was screened (a hold)");
    assert.deepEqual(await recordsOf(heldId), [], "no decision outlives its batch");
    const { outcomes } = await applyCommandBatch(ledger, [held]);
    assert.deepEqual(
      [outcomes[0]?.status, outcomes[0]?.result.phase, outcomes[0]?.result.reviewId],
      ["CONFIRMED", "pending", heldId],
    );
    const records = await recordsOf(heldId);
    assert.equal(records.length, 1);
    assert.deepEqual(
      [records[0]?.decision, records[0]?.list, records[0]?.list_version, records[0]?.party_name],
      ["hold", "fraud", 1, "Hans Mueller"],
    );
    assert.equal(records[0]?.entry_display, "Müller, Hans");
    assert.ok(records[0]?.score >= 0.92 && records[0]?.score < 1);
  });

  test("a redelivered command keeps the outcome its batch committed after the list changed, unscreened", async () => {
    const blocked = envelope(transferTo(world.mallory, blockedId));
    const first = await applyCommandBatch(ledger, [blocked]);
    assert.deepEqual([first.outcomes[0]?.status, first.outcomes[0]?.reason], ["FAILED", "fraudulent"]);
    const heldBefore = await applyCommandBatch(ledger, [envelope(transferTo(world.hans, heldId))]);
    const lists = createPostgresListStore(db.pool);
    const current = await lists.currentKeys("fraud");
    await lists.saveVersion("fraud", current.version, diffList(current.keys, entries("Petrov, Ivan")), meta);
    await index.refresh(lists);
    screened = [];
    const again = await applyCommandBatch(ledger, [blocked, envelope(transferTo(world.hans, heldId))]);
    assert.deepEqual(again.outcomes, [first.outcomes[0], heldBefore.outcomes[0]]);
    assert.deepEqual(screened, [], "a decided command is answered from its outcome, not screened");
    assert.deepEqual(
      [(await recordsOf(blockedId)).map((r) => r.decision), (await recordsOf(heldId)).length],
      [["block"], 1],
    );
    const fresh = transferTo(world.mallory);
    const cleared = await applyCommandBatch(ledger, [envelope(fresh)]);
    assert.deepEqual(
      [cleared.outcomes[0]?.status, cleared.outcomes[0]?.result.phase],
      ["CONFIRMED", "single"],
    );
    assert.deepEqual(screened, [fresh.commandId], "a new command sees the new list");
    assert.deepEqual(await recordsOf(fresh.commandId), [], "nothing is recorded for a cleared transfer");
  });

  test("two handlers deciding the same held batch at once: one outcome, one decision record", async () => {
    const lists = createPostgresListStore(db.pool);
    const current = await lists.currentKeys("fraud");
    await lists.saveVersion("fraud", current.version, diffList(current.keys, entries("Müller, Hans")), meta);
    await index.refresh(lists);
    const batch = [envelope(transferTo(world.hans))];
    const settled = await Promise.allSettled([
      applyCommandBatch(ledger, batch),
      applyCommandBatch(ledger, batch),
    ]);
    assert.ok(settled.some((s) => s.status === "fulfilled"));
    const replay = await applyCommandBatch(ledger, batch);
    for (const s of settled)
      if (s.status === "fulfilled") assert.deepEqual(s.value.outcomes, replay.outcomes);
    assert.equal(replay.outcomes[0]?.result.phase, "pending");
    assert.deepEqual(
      (await recordsOf(batch[0]?.command.commandId ?? "")).map((r) => r.decision),
      ["hold"],
    );
  });
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

describe("rules under redelivery", () => {
  test("velocity: facts are kept once per command, so a batch screened again decides the same", async () => {
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
    const first = await screener.screen(batch, db.pool);
    assert.deepEqual(
      batch.map((r) => first.get(r.commandId)?.decision ?? "clear"),
      ["clear", "clear", "hold"],
    );
    const again = await screener.screen(batch, db.pool);
    assert.deepEqual(
      batch.map((r) => again.get(r.commandId)?.decision ?? "clear"),
      ["clear", "clear", "hold"],
      "a batch screened again (its first delivery rolled back) decides as the first did",
    );
    assert.equal((await recordsOf(batch[2]?.commandId ?? "")).length, 1);
    const pruned = await facts.prune(t0 + 1_000_000, 100);
    assert.ok(pruned >= 3);
  });
});
