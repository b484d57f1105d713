/**
 * The command handler on the real PostgreSQL log: consume → apply → commit offsets, poison records
 * to the dead-letter topic, and crashes on either side of the ledger COMMIT.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import {
  applyDeps,
  balanceOf,
  createAccountCommand,
  type LedgerCodecs,
  ledgerCodecs,
  ledgerViolations,
  transferCommand,
} from "../../test/support/ledger-fixtures.ts";
import {
  FaultPlan,
  faultyStore,
  InjectedKill,
  openLog,
  produceCommands,
  readTopic,
  resetPipelineTables,
  waitUntil,
} from "../../test/support/ledger-pipeline.ts";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import { deadLetterHeaders, type RunningConsumer } from "../platform/log/consumer.ts";
import type { Log } from "../platform/log/port.ts";
import { deadLetterTopic } from "../platform/topology.ts";
import { createPostgresLedgerStore } from "./adapters/postgres.ts";
import type { BatchResult } from "./apply-batch.ts";
import type { LedgerCommand } from "./domain/types.ts";
import { startCommandHandler } from "./handler.ts";
import type { LedgerStore } from "./store.ts";

const ids = seededIds(seededRandom(4242));
const clock = manualClock();
const groupId = "ledger-handler";

let db: TestDatabase;
let codecs: LedgerCodecs;
let log: Log;

before(async () => {
  db = await startTestDatabase();
  codecs = await ledgerCodecs(db.pool);
});

beforeEach(async () => {
  await log?.close();
  await resetPipelineTables(db.pool);
  log = await openLog(db.pool);
});

after(async () => {
  await log?.close();
  await db?.close();
});

function startHandler(
  options: {
    store?: LedgerStore;
    afterCommit?: () => void;
    batchSizeMax?: number;
    attemptsMax?: number;
    onBatch?: (result: BatchResult) => void;
  } = {},
): Promise<RunningConsumer> {
  const base = applyDeps(db.pool, codecs, () => clock.nowMs());
  return startCommandHandler({
    log,
    commandCodec: codecs.commands,
    groupId,
    batchSizeMax: options.batchSizeMax ?? 100,
    fetchWaitMaxMs: 10,
    retry: { attemptsMax: options.attemptsMax ?? 4, backoffBaseMs: 5, backoffMaxMs: 20 },
    apply: { ...base, store: options.store ?? base.store },
    afterBatch: (result) => {
      options.afterCommit?.();
      options.onBatch?.(result);
    },
  });
}

const produce = (commands: readonly LedgerCommand[]) =>
  produceCommands(log.producer(), codecs, commands, clock.nowMs());

async function decidedCount(commandIds: readonly string[]): Promise<number> {
  const { rows } = await db.pool.query(
    "SELECT count(*)::int AS n FROM ledger_commands WHERE command_id = ANY($1::uuid[])",
    [commandIds],
  );
  return rows[0].n as number;
}

const waitDecided = (commandIds: readonly string[]) =>
  waitUntil(
    `${commandIds.length} commands are decided`,
    async () => (await decidedCount(commandIds)) === new Set(commandIds).size,
    15_000,
  );

async function offsetsCaughtUp(): Promise<boolean> {
  const ends = await log.admin().endOffsets(codecs.commands.topic);
  const committed = await log.admin().committedOffsets(groupId, codecs.commands.topic);
  return ends.every((end, p) => end === 0n || committed[p] === end);
}

/** A treasury and two customer accounts, through the pipeline. */
async function accounts(handlerRunning: boolean) {
  const treasury = createAccountCommand(ids, { ownerId: "bank", system: true });
  const a = createAccountCommand(ids, { ownerId: "alice" });
  const b = createAccountCommand(ids, { ownerId: "bob" });
  await produce([treasury, a, b]);
  if (!handlerRunning) return undefined;
  await waitDecided([treasury.commandId, a.commandId, b.commandId]);
  const ibanOf = async (id: string) =>
    (await db.pool.query("SELECT iban FROM ledger_accounts WHERE id = $1", [id])).rows[0].iban as string;
  return {
    treasury: await ibanOf(treasury.accountId),
    a: await ibanOf(a.accountId),
    b: await ibanOf(b.accountId),
  };
}

test("commands on the log are applied in batches and their offsets committed", async () => {
  const batches: BatchResult[] = [];
  const handler = await startHandler({ batchSizeMax: 7, onBatch: (r) => batches.push(r) });
  try {
    const w = await accounts(true);
    assert.ok(w);
    // Order is kept per debited account only, so the funding must be decided before A spends.
    const fund = transferCommand(ids, { from: w.treasury, to: w.a, amount: 1_000n });
    await produce([fund]);
    await waitDecided([fund.commandId]);
    const transfers = Array.from({ length: 40 }, (_, i) =>
      transferCommand(ids, { from: w.a, to: w.b, amount: BigInt(i + 1) }),
    );
    await produce(transfers);
    await waitDecided(transfers.map((t) => t.commandId));
    await waitUntil("offsets are committed", offsetsCaughtUp, 5_000);
    // 1 + 2 + … + 40 = 820 moved from A to B, all within A's 1,000.
    assert.equal(await balanceOf(db.pool, w.a), 180n);
    assert.equal(await balanceOf(db.pool, w.b), 820n);
    assert.ok(batches.every((b) => b.outcomes.length <= 7));
    assert.equal(
      batches.reduce((sum, b) => sum + b.appliedCount, 0),
      3 + 1 + transfers.length,
    );
  } finally {
    await handler.stop();
  }
  assert.deepEqual(await ledgerViolations(db.pool), {});
});

test("a record that is not a command goes to the dead-letter topic; the rest of its batch applies", async () => {
  const w0 = { treasury: createAccountCommand(ids, { ownerId: "bank", system: true }) };
  await produce([w0.treasury]);
  await log.producer().send([
    {
      topic: codecs.commands.topic,
      key: w0.treasury.accountId,
      value: new Uint8Array([0, 0, 0, 0, 1, 42, 42]),
    },
    {
      topic: codecs.commands.topic,
      key: w0.treasury.accountId,
      value: new TextEncoder().encode("DROP TABLE ledger_accounts;"),
    },
  ]);
  const later = createAccountCommand(ids, { ownerId: "carol" });
  await produce([later]);
  const handler = await startHandler();
  try {
    await waitDecided([w0.treasury.commandId, later.commandId]);
    const dlq = deadLetterTopic(codecs.commands.topic);
    await waitUntil(
      "both poison records are dead-lettered",
      async () => (await readTopic(log, dlq)).length === 2,
      5_000,
    );
    const dead = await readTopic(log, dlq);
    for (const record of dead) {
      assert.equal(record.headers[deadLetterHeaders.topic], codecs.commands.topic);
      assert.equal(record.headers[deadLetterHeaders.errorCode], "poison_message");
    }
    await waitUntil("offsets are committed", offsetsCaughtUp, 5_000);
  } finally {
    await handler.stop();
  }
});

test("killed after COMMIT, before the offset commit: the next handler redelivers and applies nothing twice", async () => {
  const setup = await startHandler();
  const w = await accounts(true);
  assert.ok(w);
  await produce([transferCommand(ids, { from: w.treasury, to: w.a, amount: 1_000n })]);
  await waitUntil("setup is committed", offsetsCaughtUp, 5_000);
  await setup.stop();

  const plan = new FaultPlan(["killAfterCommit"]);
  const faulty = faultyStore(createPostgresLedgerStore(db.pool), plan);
  const transfers = Array.from({ length: 10 }, () =>
    transferCommand(ids, { from: w.a, to: w.b, amount: 100n }),
  );
  await produce(transfers);
  const victim = await startHandler({ ...faulty, batchSizeMax: 100 });
  await assert.rejects(victim.done, InjectedKill);
  // The ledger committed the batch but the group did not move on.
  assert.equal(await decidedCount(transfers.map((t) => t.commandId)), 10);
  assert.equal(await offsetsCaughtUp(), false);

  const redelivered: BatchResult[] = [];
  const successor = await startHandler({ onBatch: (r) => redelivered.push(r) });
  try {
    await waitUntil("the successor catches up", offsetsCaughtUp, 5_000);
  } finally {
    await successor.stop();
  }
  assert.equal(
    redelivered.reduce((sum, r) => sum + r.duplicateCount, 0),
    10,
  );
  assert.equal(
    redelivered.reduce((sum, r) => sum + r.appliedCount, 0),
    0,
  );
  assert.equal(await balanceOf(db.pool, w.a), 0n);
  assert.equal(await balanceOf(db.pool, w.b), 1_000n);
  assert.deepEqual(await ledgerViolations(db.pool), {});
});

test("killed before COMMIT: nothing is half-written and the next handler applies the batch", async () => {
  const plan = new FaultPlan(["killBeforeCommit"]);
  const faulty = faultyStore(createPostgresLedgerStore(db.pool), plan);
  const treasury = createAccountCommand(ids, { ownerId: "bank", system: true });
  const a = createAccountCommand(ids, { ownerId: "alice" });
  await produce([treasury, a]);
  const victim = await startHandler(faulty);
  await assert.rejects(victim.done, InjectedKill);
  assert.equal(await decidedCount([treasury.commandId, a.commandId]), 0);
  const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM ledger_accounts");
  assert.equal(rows[0].n, 0);

  const successor = await startHandler();
  try {
    await waitDecided([treasury.commandId, a.commandId]);
  } finally {
    await successor.stop();
  }
  assert.deepEqual(await ledgerViolations(db.pool), {});
});

test("failures after COMMIT make the same handler redeliver; outcomes do not change", async () => {
  const plan = new FaultPlan(["none", "failAfterCommit", "failAfterCommit", "none"]);
  const faulty = faultyStore(createPostgresLedgerStore(db.pool), plan);
  const batches: BatchResult[] = [];
  const handler = await startHandler({ ...faulty, onBatch: (r) => batches.push(r) });
  try {
    const w = await accounts(true);
    assert.ok(w);
    const fund = transferCommand(ids, { from: w.treasury, to: w.a, amount: 50n });
    const spend = transferCommand(ids, { from: w.a, to: w.b, amount: 80n });
    await produce([fund, spend]);
    await waitDecided([fund.commandId, spend.commandId]);
    await waitUntil("offsets are committed", offsetsCaughtUp, 5_000);
    assert.ok(plan.seen.includes("failAfterCommit"));
    assert.equal(await balanceOf(db.pool, w.a), 50n);
  } finally {
    await handler.stop();
  }
  assert.deepEqual(await ledgerViolations(db.pool), {});
});

test("a transient PostgreSQL error outlasting the retry budget does not dead-letter valid commands", async () => {
  // What a restart or failover looks like from inside a transaction: the server terminates the
  // session (SQLSTATE 57P01). The ledger store passes the raw pg error on.
  let failuresLeft = 6;
  const real = createPostgresLedgerStore(db.pool);
  const store: LedgerStore = {
    transaction: (work) =>
      real.transaction(async (tx) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          await tx.findOutcomes([]);
          throw Object.assign(new Error("terminating connection due to administrator command"), {
            code: "57P01",
          });
        }
        return work(tx);
      }),
  };
  const treasury = createAccountCommand(ids, { ownerId: "bank", system: true });
  const a = createAccountCommand(ids, { ownerId: "alice" });
  await produce([treasury, a]);
  const handler = await startHandler({ store, attemptsMax: 3 });
  try {
    await waitUntil("offsets are committed", offsetsCaughtUp, 10_000);
    const dead = await readTopic(log, deadLetterTopic(codecs.commands.topic));
    assert.equal(dead.length, 0, "valid commands were dead-lettered because the database blinked");
    assert.equal(await decidedCount([treasury.commandId, a.commandId]), 2);
  } finally {
    await handler.stop();
  }
});
