/**
 * Exactly-once effect, as a property: random scenarios (accounts, funding, transfers incl. ones meant
 * to fail, duplicate and conflicting submissions of one id, two-phase reserve/post/void/expire) run
 * through the real pipeline — the PostgreSQL log, the command handler(s), applyCommandBatch and the
 * outbox relay on real PostgreSQL — while a random schedule of faults hits the handler (dependency
 * errors, kills before and after the ledger COMMIT, failures after it) and the relay (a publish whose
 * acknowledgement is lost). Afterwards every command has exactly one outcome, money is conserved,
 * balances match their postings, no customer is overdrawn, and outcomes were published at least once,
 * every copy identical.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import {
  applyDeps,
  createAccountCommand,
  type LedgerCodecs,
  ledgerCodecs,
  ledgerViolations,
  postCommand,
  testIbanFormat,
  transferCommand,
  voidCommand,
} from "../../test/support/ledger-fixtures.ts";
import {
  type Fault,
  FaultPlan,
  faultyStore,
  flakyProducer,
  InjectedKill,
  openLog,
  produceCommands,
  readTopic,
  resetPipelineTables,
  startLedgerRelay,
  waitUntil,
} from "../../test/support/ledger-pipeline.ts";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { type IdGenerator, manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import type { RunningConsumer } from "../platform/log/consumer.ts";
import type { Log } from "../platform/log/port.ts";
import { deadLetterTopic } from "../platform/topology.ts";
import { createPostgresLedgerStore } from "./adapters/postgres.ts";
import { ibanFor } from "./domain/iban.ts";
import type { Authorization, LedgerCommand, TransferMoney } from "./domain/types.ts";
import { startCommandHandler } from "./handler.ts";
import { outcomeFromAvro } from "./schemas.ts";

// --- Scenarios ------------------------------------------------------------------------------------

type AuthChoice = "owner" | "stranger" | "token" | "wrongToken" | "operator";

type Step =
  | {
      readonly kind: "transfer";
      readonly from: number;
      readonly to: number;
      readonly amount: bigint;
      readonly auth: AuthChoice;
      readonly toUnknown: boolean;
      readonly pendingTimeoutMs: number | null;
    }
  | { readonly kind: "post"; readonly pending: number }
  | { readonly kind: "void"; readonly pending: number; readonly cause: "voided" | "expired" }
  | { readonly kind: "duplicate"; readonly of: number }
  | { readonly kind: "conflict"; readonly of: number }
  | { readonly kind: "advance"; readonly ms: number };

interface Scenario {
  readonly seed: number;
  readonly customers: readonly {
    readonly asset: "EUR" | "USD";
    readonly overdraftLimit: bigint;
    readonly funding: bigint;
  }[];
  readonly waves: readonly (readonly Step[])[];
  readonly faults: readonly Fault[];
  readonly relayFailures: readonly number[];
  readonly handlersCount: 1 | 2;
  readonly batchSizeMax: number;
}

const customerArb = fc.record({
  asset: fc.constantFrom("EUR" as const, "EUR" as const, "USD" as const),
  overdraftLimit: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 500n })),
  funding: fc.bigInt({ min: 0n, max: 5_000n }),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("transfer" as const),
      from: fc.nat(9),
      to: fc.nat(9),
      amount: fc.oneof(fc.bigInt({ min: 1n, max: 1_500n }), fc.bigInt({ min: 1n, max: 20_000n })),
      auth: fc.constantFrom<AuthChoice>(
        "owner",
        "owner",
        "owner",
        "operator",
        "token",
        "stranger",
        "wrongToken",
      ),
      toUnknown: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      pendingTimeoutMs: fc.option(fc.constantFrom(500, 5_000, 60_000), { freq: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("post" as const), pending: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("void" as const),
      pending: fc.nat(20),
      cause: fc.constantFrom("voided" as const, "expired" as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), of: fc.nat(200) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("conflict" as const), of: fc.nat(200) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  },
);

const faultArb = fc.constantFrom<Fault>(
  "none",
  "failBeforePersist",
  "killBeforeCommit",
  "killAfterCommit",
  "killAfterCommit",
  "failAfterCommit",
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  customers: fc.array(customerArb, { minLength: 2, maxLength: 6 }),
  waves: fc.array(fc.array(stepArb, { minLength: 1, maxLength: 25 }), { minLength: 1, maxLength: 4 }),
  faults: fc.array(faultArb, { maxLength: 10 }),
  relayFailures: fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 3 }),
  handlersCount: fc.constantFrom(1 as const, 2 as const),
  batchSizeMax: fc.integer({ min: 1, max: 20 }),
});

// --- Harness --------------------------------------------------------------------------------------

let db: TestDatabase;
let codecs: LedgerCodecs;

before(async () => {
  db = await startTestDatabase();
  codecs = await ledgerCodecs(db.pool);
});

after(async () => {
  await db?.close();
});

const groupId = "ledger-handler";
const unknownIban = ibanFor(testIbanFormat, 9_999_999_999n);

/** Handlers that are "restarted" whenever an injected kill takes one down, like a supervisor would. */
function superviseHandlers(log: Log, plan: FaultPlan, scenario: Scenario, nowMs: () => number) {
  const running = new Set<RunningConsumer>();
  const unexpected: unknown[] = [];
  let stopping = false;
  let kills = 0;
  const start = async (): Promise<void> => {
    const { store, afterCommit } = faultyStore(createPostgresLedgerStore(db.pool), plan);
    const handler = await startCommandHandler({
      log,
      commandCodec: codecs.commands,
      groupId,
      batchSizeMax: scenario.batchSizeMax,
      fetchWaitMaxMs: 5,
      retry: { attemptsMax: 3, backoffBaseMs: 1, backoffMaxMs: 10 },
      apply: { ...applyDeps(db.pool, codecs, nowMs), store },
      afterBatch: afterCommit,
    });
    running.add(handler);
    handler.done.then(
      () => running.delete(handler),
      (error: unknown) => {
        running.delete(handler);
        if (!(error instanceof InjectedKill)) {
          unexpected.push(error);
          return;
        }
        kills += 1;
        if (!stopping) start().catch((e: unknown) => unexpected.push(e));
      },
    );
  };
  return {
    async startAll() {
      for (let i = 0; i < scenario.handlersCount; i++) await start();
    },
    async stopAll() {
      stopping = true;
      while (running.size > 0) await Promise.all([...running].map((h) => h.stop()));
    },
    unexpected,
    kills: () => kills,
  };
}

interface World {
  readonly ids: IdGenerator;
  readonly ibans: string[];
  readonly owners: string[];
  readonly tokens: string[];
  readonly assets: string[];
  readonly treasuries: Record<string, string>;
}

/** Turns abstract steps into commands against the world built so far. */
function commandsOf(
  steps: readonly Step[],
  world: World,
  submitted: LedgerCommand[],
  pendings: TransferMoney[],
  clock: { advance(ms: number): void },
): LedgerCommand[] {
  const out: LedgerCommand[] = [];
  const pick = (i: number) => i % world.ibans.length;
  for (const step of steps) {
    switch (step.kind) {
      case "transfer": {
        const from = pick(step.from);
        const to = pick(step.to);
        const owner = world.owners[from] as string;
        const authorization: Authorization =
          step.auth === "owner"
            ? { kind: "owner", actorId: owner }
            : step.auth === "stranger"
              ? { kind: "owner", actorId: "stranger" }
              : step.auth === "token"
                ? { kind: "token", actorId: "someone", tokenHash: world.tokens[from] as string }
                : step.auth === "wrongToken"
                  ? { kind: "token", actorId: "someone", tokenHash: "wrong" }
                  : { kind: "operator", actorId: "teller" };
        const command = transferCommand(world.ids, {
          from: world.ibans[from] as string,
          to: step.toUnknown ? unknownIban : (world.ibans[to] as string),
          amount: step.amount,
          asset: world.assets[from] as string,
          authorization,
          ...(step.pendingTimeoutMs === null ? {} : { pendingTimeoutMs: step.pendingTimeoutMs }),
        });
        if (command.pendingTimeoutMs !== undefined) pendings.push(command);
        out.push(command);
        break;
      }
      case "post":
      case "void": {
        const pending = pendings[step.pending % Math.max(1, pendings.length)];
        const pendingId = pending?.commandId ?? world.ids.uuid();
        out.push(
          step.kind === "post"
            ? postCommand(world.ids, pendingId)
            : voidCommand(world.ids, pendingId, step.cause),
        );
        break;
      }
      case "duplicate": {
        const earlier = [...submitted, ...out];
        const original = earlier[step.of % Math.max(1, earlier.length)];
        if (original) out.push(original);
        break;
      }
      case "conflict": {
        const earlier = [...submitted, ...out].filter((c): c is TransferMoney => c.type === "TransferMoney");
        const original = earlier[step.of % Math.max(1, earlier.length)];
        if (!original) break;
        // Same id, same debited account (so the same partition, ordered after the original), other amount.
        out.push(
          transferCommand(world.ids, {
            from: original.debitIban,
            to: original.creditIban,
            amount: original.amount + 1n,
            asset: original.asset,
            authorization: original.authorization,
            commandId: original.commandId,
          }),
        );
        break;
      }
      case "advance":
        clock.advance(step.ms);
        break;
    }
  }
  return out;
}

/** Runs one scenario to quiescence and checks it; returns how many handler kills happened. */
async function runScenario(scenario: Scenario): Promise<number> {
  await resetPipelineTables(db.pool);
  const log = await openLog(db.pool);
  const clock = manualClock();
  const ids = seededIds(seededRandom(scenario.seed));
  const plan = new FaultPlan(scenario.faults);
  const relay = startLedgerRelay(db.pool, flakyProducer(log.producer(), new Set(scenario.relayFailures)));
  const handlers = superviseHandlers(log, plan, scenario, () => clock.nowMs());
  const submitted: LedgerCommand[] = [];
  const produce = async (commands: readonly LedgerCommand[]) => {
    submitted.push(...commands);
    await produceCommands(log.producer(), codecs, commands, clock.nowMs());
  };
  const allDecided = async () => {
    const wanted = new Set(submitted.map((c) => c.commandId));
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM ledger_commands WHERE command_id = ANY($1::uuid[])",
      [[...wanted]],
    );
    return rows[0].n === wanted.size;
  };
  const waitAllDecided = () => waitUntil("every command is decided", allDecided, 30_000, 10);

  try {
    await handlers.startAll();
    // The world: one treasury per asset, then the customers, then their funding.
    const treasuries = {
      EUR: createAccountCommand(ids, { ownerId: "bank", system: true, asset: "EUR" }),
      USD: createAccountCommand(ids, { ownerId: "bank", system: true, asset: "USD" }),
    };
    const customers = scenario.customers.map((c, i) =>
      createAccountCommand(ids, {
        ownerId: `customer-${i}`,
        asset: c.asset,
        overdraftLimit: c.overdraftLimit,
      }),
    );
    await produce([treasuries.EUR, treasuries.USD, ...customers]);
    await waitAllDecided();
    const ibanOf = new Map<string, string>(
      (await db.pool.query("SELECT id, iban FROM ledger_accounts")).rows.map((r) => [r.id, r.iban]),
    );
    const world: World = {
      ids,
      ibans: customers.map((c) => ibanOf.get(c.accountId) as string),
      owners: customers.map((c) => c.ownerId),
      tokens: customers.map((c) => c.tokenHash),
      assets: customers.map((c) => c.asset),
      treasuries: {
        EUR: ibanOf.get(treasuries.EUR.accountId) as string,
        USD: ibanOf.get(treasuries.USD.accountId) as string,
      },
    };
    const funding = scenario.customers.flatMap((c, i) =>
      c.funding > 0n
        ? [
            transferCommand(ids, {
              from: world.treasuries[c.asset] as string,
              to: world.ibans[i] as string,
              amount: c.funding,
              asset: c.asset,
            }),
          ]
        : [],
    );
    await produce(funding);
    await waitAllDecided();

    const pendings: TransferMoney[] = [];
    for (const wave of scenario.waves) {
      await produce(commandsOf(wave, world, submitted, pendings, clock));
    }
    await waitAllDecided();
    await waitUntil(
      "the handlers committed every offset",
      async () => {
        const ends = await log.admin().endOffsets(codecs.commands.topic);
        const committed = await log.admin().committedOffsets(groupId, codecs.commands.topic);
        return ends.every((end, p) => end === 0n || committed[p] === end);
      },
      15_000,
      10,
    );
    await handlers.stopAll();
    await waitUntil(
      "the relay emptied the outbox",
      async () => (await db.pool.query("SELECT 1 FROM ledger_outbox LIMIT 1")).rowCount === 0,
      15_000,
      10,
    );
    await relay.stop();
    await assertExactlyOnce(log, submitted, handlers.unexpected);
    return handlers.kills();
  } finally {
    await handlers.stopAll();
    await relay.stop();
    await log.close();
  }
}

async function assertExactlyOnce(log: Log, submitted: readonly LedgerCommand[], unexpected: unknown[]) {
  assert.deepEqual(unexpected, [], "no handler died of anything but an injected kill");
  const firstFingerprint = new Map<string, string>();
  for (const c of submitted)
    if (!firstFingerprint.has(c.commandId)) firstFingerprint.set(c.commandId, c.fingerprint);

  // Exactly one decision per submitted id, and it is the first submission's.
  const { rows } = await db.pool.query("SELECT command_id, fingerprint, status, reason FROM ledger_commands");
  const stored = new Map(rows.map((r) => [r.command_id as string, r]));
  assert.equal(rows.length, firstFingerprint.size, "one ledger_commands row per submitted id, no more");
  for (const [id, fingerprint] of firstFingerprint) {
    assert.equal(stored.get(id)?.fingerprint, fingerprint, `command ${id} decided as first submitted`);
  }

  assert.deepEqual(await ledgerViolations(db.pool), {});
  assert.deepEqual(await readTopic(log, deadLetterTopic(codecs.commands.topic)), [], "nothing dead-lettered");

  // At-least-once publication of outcomes, every copy identical and equal to the stored decision.
  const published = new Map<string, Buffer[]>();
  for (const record of await readTopic(log, codecs.outcomes.topic)) {
    const copies = published.get(record.key) ?? [];
    copies.push(Buffer.from(record.value));
    published.set(record.key, copies);
  }
  for (const [id, row] of stored) {
    const copies = published.get(id) ?? [];
    assert.ok(copies.length >= 1, `outcome of ${id} was published`);
    for (const copy of copies) assert.deepEqual(copy, copies[0], `copies of ${id}'s outcome are identical`);
    const outcome = outcomeFromAvro(codecs.outcomes.decode(copies[0] as Buffer));
    assert.equal(outcome.fingerprint, row.fingerprint);
    const reason = "reason" in outcome.outcome ? outcome.outcome.reason : null;
    assert.equal(reason, row.reason, `published reason of ${id} matches the ledger`);
  }
  assert.equal(published.size, stored.size, "no outcome for a command the ledger does not know");

  // Published balance changes are exactly the postings (deduplicated by command and account).
  const changes = new Set<string>();
  for (const record of await readTopic(log, codecs.balanceChanged.topic)) {
    const event = codecs.balanceChanged.decode(record.value) as { commandId: string; accountId: string };
    changes.add(`${event.commandId}/${event.accountId}`);
  }
  const entries = await db.pool.query("SELECT command_id, account_id FROM ledger_entries");
  assert.deepEqual(
    [...changes].sort(),
    entries.rows.map((r) => `${r.command_id}/${r.account_id}`).sort(),
    "one BalanceChanged per posting",
  );
}

test("random transfers, duplicates, conflicts, two-phase ops and crashes have exactly-once effect", async (t) => {
  let runs = 0;
  let kills = 0;
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (scenario) => {
      runs += 1;
      kills += await runScenario(scenario);
    }),
    { numRuns: 30, endOnFailure: true },
  );
  assert.equal(runs, 30);
  assert.ok(kills > 0, "handlers were killed and replaced");
  t.diagnostic(`${runs} scenarios, ${kills} handler kills`);
});
