/**
 * The fault test of distributed mode (run by `npm run test:distributed`, which starts the services).
 *
 * Against the real services: 1 API + 3 handler processes under generated load through the HTTP API;
 * handlers are `kill -9`ed mid-load and restarted, the Kafka broker is restarted once and
 * PostgreSQL once. After the pipeline drained it asserts: every accepted command has exactly one
 * outcome, no duplicate postings, money conserved per asset, balances equal a rebuild from
 * `ledger.balance-changed`, and each sequential client's commands were applied in its order.
 *
 * It owns the ledger topics while it runs (deletes and re-creates them, so the rebuild reads the
 * whole history) and uses a fresh database; every process it starts is stopped, even on failure.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { deleteTopicsAndGroup } from "../../scripts/services/kafka/reset.ts";
import { deadLetterTopic, topics } from "../../src/app/topology.ts";
import { createKafkaLog } from "../../src/platform/log/adapters/kafka.ts";
import { avroType } from "../../src/platform/log/avro.ts";
import type { Log, LogRecord } from "../../src/platform/log/port.ts";
import { createConfluentSchemaRegistry } from "../../src/platform/schema-registry/confluent.ts";
import { freshDatabase, platformEnv, readServicesEnv } from "./environment.ts";
import { type PlatformProcess, runNode, startPlatformProcess } from "./processes.ts";
import { type BalanceEvent, orderViolation, rebuildBalances } from "./rebuild.ts";

const projectDir = resolve(import.meta.dirname, "..", "..");
const limits = {
  totalMs: 6 * 60_000,
  loadMs: 110_000,
  drainMs: 120_000,
  transfersMax: 30_000,
  workers: 12,
  sequentialClients: 4,
  accounts: 40,
  fundingMinor: 1_000_000n,
  requestTimeoutMs: 15_000,
  /** A command answered 5xx or not at all is retried (same id) this long before it counts as unknown. */
  retryForMs: 60_000,
};
const adminPassword = "fault-test-admin-password";
const jwtSecret = "fault-test-secret-fault-test-secret-0123456789";
const apiPort = 18_580 + Math.floor(Math.random() * 400);
const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s`;
const say = (text: string) => process.stdout.write(`[faults ${elapsed()}] ${text}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- HTTP with retries

type Answer = { status: number; body: Record<string, unknown> | undefined };

async function request(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(limits.requestTimeoutMs),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed };
}

/** Retries network errors, 5xx and 429 with the same request (commands are idempotent by id). */
async function requestUntilAnswered(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  retryForMs = limits.retryForMs,
): Promise<Answer | undefined> {
  const deadline = Date.now() + retryForMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await request(method, path, body, headers);
      if (answer.status < 500 && answer.status !== 429) return answer;
    } catch {
      // Timeout or connection refused: unknown whether it was accepted; retrying is safe.
    }
    if (Date.now() > deadline) return undefined;
    await sleep(Math.min(2_000, 100 * 2 ** attempt));
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function waitForApi(deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    try {
      if ((await request("GET", "/readyz")).status === 200) return;
    } catch {}
    await sleep(250);
  }
  throw new Error("the API did not become ready");
}

async function signIn(username: string, password: string): Promise<string> {
  const answer = await requestUntilAnswered("POST", "/v1/auth/login", { username, password }, {});
  const token = answer?.body?.accessToken;
  assert.equal(typeof token, "string", `login of ${username}: ${JSON.stringify(answer)}`);
  return token as string;
}

// ---------------------------------------------------------------- bookkeeping of the load

interface Account {
  readonly iban: string;
  readonly ownerToken: string;
}

class Ledger {
  /** Commands the API definitely accepted (201/202, or 422 = decided FAILED). */
  readonly accepted = new Set<string>();
  /** Commands never answered definitively (may or may not be in the log). */
  readonly unknown = new Set<string>();
  readonly statusCounts = new Map<string, number>();
  readonly unexpected: string[] = [];
  confirmedByWait = 0;
  sent = 0;

  record(id: string, answer: Answer | undefined): void {
    const label = answer ? String(answer.status) : "no-answer";
    this.statusCounts.set(label, (this.statusCounts.get(label) ?? 0) + 1);
    if (!answer) {
      this.unknown.add(id);
      return;
    }
    if (answer.status === 201 || answer.status === 202 || answer.status === 422) {
      this.accepted.add(id);
      if (answer.status === 201) this.confirmedByWait++;
    } else if (this.unexpected.length < 20) {
      this.unexpected.push(`${id}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
  }
}

async function openAccount(ledger: Ledger, ownerToken: string): Promise<Account> {
  for (;;) {
    const id = randomUUID();
    const answer = await requestUntilAnswered(
      "POST",
      "/v1/accounts",
      { id, asset: "EUR" },
      {
        ...bearer(ownerToken),
        prefer: "wait=20",
      },
    );
    ledger.record(id, answer);
    const iban = answer?.body?.iban;
    if (answer?.status === 201 && typeof iban === "string") return { iban, ownerToken };
    // Accepted but not confirmed in time: ask for the outcome.
    for (let i = 0; i < 40 && answer && answer.status === 202; i++) {
      await sleep(500);
      const status = await requestUntilAnswered("GET", `/v1/commands/${id}`, undefined, bearer(ownerToken));
      if (typeof status?.body?.iban === "string") return { iban: status.body.iban, ownerToken };
    }
  }
}

async function deposit(ledger: Ledger, adminToken: string, account: Account): Promise<void> {
  const id = randomUUID();
  const answer = await requestUntilAnswered(
    "POST",
    "/v1/operations",
    { id, type: "deposit", iban: account.iban, amount: limits.fundingMinor.toString(), branch: "fault-test" },
    { ...bearer(adminToken), prefer: "wait=20" },
  );
  ledger.record(id, answer);
  assert.ok(
    answer && (answer.status === 201 || answer.status === 202),
    `deposit answered ${JSON.stringify(answer)}`,
  );
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/**
 * One transfer; 1 in 10 asks for far more than any account holds, so it must fail. `amountMax`
 * is small for sequential clients, so their accounts last the whole run and most of their
 * commands confirm (what the order check compares).
 */
async function transfer(
  ledger: Ledger,
  from: Account,
  to: Account,
  wait: boolean,
  amountMax: number,
): Promise<string> {
  const id = randomUUID();
  const failing = Math.random() < 0.1;
  const amount = failing ? 50_000_000n : BigInt(1 + Math.floor(Math.random() * amountMax));
  ledger.sent++;
  const answer = await requestUntilAnswered(
    "POST",
    "/v1/transfers",
    { id, from: from.iban, to: to.iban, amount: amount.toString(), asset: "EUR" },
    { ...bearer(from.ownerToken), ...(wait ? { prefer: "wait=5" } : {}) },
  );
  ledger.record(id, answer);
  return id;
}

// ---------------------------------------------------------------- Kafka and PostgreSQL helpers

const ledgerTopicNames = Object.values(topics).flatMap(({ spec }) => [spec.name, deadLetterTopic(spec.name)]);

async function resetLedgerTopics(brokers: string[]): Promise<void> {
  await deleteTopicsAndGroup(brokers, ledgerTopicNames, "ledger-handler", "faults-reset");
}

async function readWholeTopic(log: Log, topic: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const ends = await log.admin().endOffsets(topic);
  for (const [partition, end] of ends.entries()) {
    let offset = 0n;
    while (offset < end) {
      const records = await log.read(topic, partition, offset, 5_000);
      if (records.length === 0) break;
      out.push(...records);
      offset = (records.at(-1)?.offset ?? offset) + 1n;
    }
  }
  return out;
}

// ---------------------------------------------------------------- the test

test("distributed mode keeps its guarantees through handler kills, a Kafka restart and a PostgreSQL restart", {
  timeout: limits.totalMs,
}, async () => {
  const services = readServicesEnv(projectDir);
  const brokers = (services.LEDGERFLOW_KAFKA_BROKERS ?? "").split(",");
  const runDir = join(projectDir, ".services", "faults", new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(runDir, { recursive: true });
  say(`logs of this run: ${runDir}`);
  const processes: PlatformProcess[] = [];
  const servicesScript = (command: "up" | "down", only: string) =>
    runNode(`scripts/services/${command}.ts`, ["--only", only], {
      cwd: projectDir,
      env: process.env,
      logFile: join(runDir, "services.log"),
    });

  const databaseUrl = await freshDatabase(services.LEDGERFLOW_DATABASE_URL ?? "", "ledgerflow_faults_");
  say(`fresh database ${new URL(databaseUrl).pathname.slice(1)}`);
  await resetLedgerTopics(brokers);
  const env = platformEnv(services, { databaseUrl, jwtSecret, adminPassword });
  const sync = await runNode("src/main.ts", ["topics", "sync"], {
    cwd: projectDir,
    env,
    logFile: join(runDir, "topics-sync.log"),
  });
  assert.equal(sync, 0, `topics sync exited ${sync} (see ${runDir}/topics-sync.log)`);
  say("ledger topics re-created by `ledgerflow topics sync`");

  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  db.on("error", () => {});
  const log = createKafkaLog({ brokers, clientId: `faults-${process.pid}` });
  try {
    const spawnOptions = { projectDir, logDir: runDir, env, restartCrashedAfterMs: 2_000 };
    const api = startPlatformProcess("api-1", "api", ["--port", String(apiPort)], spawnOptions);
    processes.push(api);
    await waitForApi(Date.now() + 60_000);
    const handlers = [1, 2, 3].map((n) => startPlatformProcess(`handler-${n}`, "handler", [], spawnOptions));
    processes.push(...handlers);
    say(`1 API (port ${apiPort}) + 3 handler processes started`);

    // ---- setup: users, accounts, funding
    const ledger = new Ledger();
    const adminToken = await signIn("admin", adminPassword);
    const owners: string[] = [];
    for (let i = 0; i < 4; i++) {
      const username = `fault-${Date.now().toString(36)}-${i}`;
      const password = "correct horse battery staple";
      const registered = await requestUntilAnswered("POST", "/v1/auth/register", { username, password }, {});
      assert.equal(registered?.status, 201, `register: ${JSON.stringify(registered)}`);
      owners.push(await signIn(username, password));
    }
    const accounts: Account[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < limits.accounts; i += 8)
          accounts.push(await openAccount(ledger, owners[i % owners.length] as string));
      }),
    );
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < accounts.length; i += 8)
          await deposit(ledger, adminToken, accounts[i] as Account);
      }),
    );
    say(`${accounts.length} accounts opened and funded with ${limits.fundingMinor} minor units each`);
    const sequentialSources = accounts.slice(0, limits.sequentialClients);
    const randomSources = accounts.slice(limits.sequentialClients);

    // ---- load with faults
    const loadUntil = Date.now() + limits.loadMs;
    const loadGoing = () => Date.now() < loadUntil && ledger.sent < limits.transfersMax;
    const issuedBySequential = new Map<string, string[]>();
    const sequential = sequentialSources.map(async (source) => {
      const issued: string[] = [];
      issuedBySequential.set(source.iban, issued);
      while (loadGoing()) {
        const id = await transfer(ledger, source, pick(accounts.filter((a) => a !== source)), false, 200);
        // Only commands known to be in the log count for the order check (sent one after another).
        if (ledger.accepted.has(id)) issued.push(id);
      }
    });
    const random = Array.from({ length: limits.workers }, async () => {
      while (loadGoing()) {
        const from = pick(randomSources);
        let to = pick(accounts);
        while (to === from) to = pick(accounts);
        await transfer(ledger, from, to, Math.random() < 0.5, 20_000);
      }
    });
    const progress = setInterval(() => {
      say(
        `load: ${ledger.sent} transfers sent, ${ledger.accepted.size} commands accepted, answers ${JSON.stringify(Object.fromEntries(ledger.statusCounts))}`,
      );
    }, 10_000);

    const faults = (async () => {
      const at = async (offsetMs: number) => {
        const wait = startLoad + offsetMs - Date.now();
        if (wait > 0) await sleep(wait);
      };
      const startLoad = Date.now();
      const killAndRestart = async (handler: PlatformProcess) => {
        say(`kill -9 ${handler.name} (pid ${handler.pid()})`);
        await handler.killHard();
        await sleep(3_000);
        handler.restart();
        say(`${handler.name} restarted`);
      };
      await at(10_000);
      await killAndRestart(handlers[0] as PlatformProcess);
      await at(22_000);
      await killAndRestart(handlers[1] as PlatformProcess);
      await at(35_000);
      say("restarting the Kafka broker");
      assert.equal(await servicesScript("down", "kafka"), 0, "kafka stops");
      assert.equal(await servicesScript("up", "kafka"), 0, "kafka starts");
      say("Kafka broker is back");
      await at(Math.max(55_000, Date.now() - startLoad + 5_000));
      await killAndRestart(handlers[2] as PlatformProcess);
      await at(Math.max(68_000, Date.now() - startLoad + 5_000));
      say("restarting PostgreSQL");
      assert.equal(await servicesScript("down", "postgres"), 0, "postgres stops");
      assert.equal(await servicesScript("up", "postgres"), 0, "postgres starts");
      say("PostgreSQL is back");
      await at(Math.max(85_000, Date.now() - startLoad + 5_000));
      await killAndRestart(handlers[0] as PlatformProcess);
    })();

    try {
      await Promise.all([...sequential, ...random, faults]);
    } finally {
      clearInterval(progress);
    }
    say(
      `load done: ${ledger.sent} transfers, ${ledger.accepted.size} accepted commands, ${ledger.unknown.size} never answered, answers ${JSON.stringify(Object.fromEntries(ledger.statusCounts))}`,
    );

    const registry = createConfluentSchemaRegistry({
      url: services.LEDGERFLOW_SCHEMA_REGISTRY_URL ?? "",
      requestTimeoutMs: 10_000,
    });
    const decodeAll = async (records: readonly LogRecord[]) => {
      const types = new Map<number, ReturnType<typeof avroType>>();
      const values: Record<string, unknown>[] = [];
      for (const record of records) {
        const bytes = Buffer.from(record.value);
        const id = bytes.readUInt32BE(1);
        let type = types.get(id);
        if (!type) {
          const schema = await registry.schemaById(id);
          assert.ok(schema, `schema ${id} is registered`);
          type = avroType(schema as never);
          types.set(id, type);
        }
        values.push(type.fromBuffer(bytes.subarray(5)) as Record<string, unknown>);
      }
      return values;
    };
    /** Where undecided commands sit in ledger.commands, against the handler group's committed offsets. */
    const describeStall = async (accepted: readonly string[]): Promise<string> => {
      try {
        const done = await db.query(
          "SELECT command_id FROM ledger_commands WHERE command_id = ANY($1::uuid[])",
          [accepted],
        );
        const decidedIds = new Set(done.rows.map((r) => r.command_id as string));
        const undecided = new Set(accepted.filter((id) => !decidedIds.has(id)));
        const name = topics.ledgerCommands.spec.name;
        const records = await readWholeTopic(log, name);
        const values = await decodeAll(records);
        const ends = await log.admin().endOffsets(name);
        const committed = await log.admin().committedOffsets("ledger-handler", name);
        const lines = ends.map((end, partition) => {
          const offsets = records
            .filter(
              (record, i) => record.partition === partition && undecided.has(String(values[i]?.commandId)),
            )
            .map((record) => record.offset);
          const range =
            offsets.length === 0 ? "" : ` undecided ${offsets.length} at ${offsets[0]}..${offsets.at(-1)}`;
          return `  p${partition}: end ${end} committed ${committed[partition] ?? "-"}${range}`;
        });
        const dead = await log.admin().endOffsets(deadLetterTopic(name));
        return `stall diagnosis (${undecided.size} undecided, ${name} DLQ ends ${dead.join(",")}):\n${lines.join("\n")}`;
      } catch (error) {
        return `stall diagnosis failed: ${String(error)}`;
      }
    };

    // ---- drain: every accepted command decided, the outbox published
    const accepted = [...ledger.accepted];
    const drainUntil = Date.now() + limits.drainMs;
    for (;;) {
      const decided = await db
        .query("SELECT count(*)::int AS n FROM ledger_commands WHERE command_id = ANY($1::uuid[])", [
          accepted,
        ])
        .then((r) => r.rows[0].n as number)
        .catch(() => -1);
      const outbox = await db
        .query("SELECT count(*)::int AS n FROM ledger_outbox")
        .then((r) => r.rows[0].n as number)
        .catch(() => -1);
      if (decided === accepted.length && outbox === 0) break;
      if (Date.now() > drainUntil) {
        say(await describeStall(accepted));
        assert.fail(
          `not drained after ${limits.drainMs} ms: ${decided}/${accepted.length} decided, outbox ${outbox}`,
        );
      }
      say(`draining: ${decided}/${accepted.length} accepted commands decided, ${outbox} outbox rows`);
      await sleep(2_000);
    }
    say("drained");

    // ---- assertions
    const crashes = processes.filter((p) => p.unexpectedExits.includes(70));
    assert.deepEqual(
      crashes.map((p) => p.name),
      [],
      "no process stopped on a broken invariant (exit 70)",
    );
    assert.deepEqual(ledger.unexpected, [], "no command was refused with an unexpected status");
    assert.ok(
      ledger.confirmedByWait > 0,
      "outcomes decided in handler processes reached the API process (Prefer: wait)",
    );

    // Exactly one outcome per accepted command: in the ledger (primary key) and on the API.
    const decided = await db.query(
      "SELECT command_id, status FROM ledger_commands WHERE command_id = ANY($1::uuid[])",
      [accepted],
    );
    assert.equal(decided.rowCount, accepted.length, "every accepted command has an outcome");
    const statusById = new Map(decided.rows.map((r) => [r.command_id as string, r.status as string]));
    for (const id of accepted.slice(0, 50)) {
      const answer = await requestUntilAnswered("GET", `/v1/commands/${id}`, undefined, bearer(adminToken));
      assert.equal(answer?.body?.status, statusById.get(id), `GET /v1/commands/${id} agrees with the ledger`);
    }

    // The outcome topic: every accepted command's outcome was published, republications agree.
    const outcomeEvents = await decodeAll(await readWholeTopic(log, topics.ledgerOutcomes.spec.name));
    const publishedOutcome = new Map<string, string>();
    for (const event of outcomeEvents) {
      const commandId = String(event.commandId);
      const summary = JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      const previous = publishedOutcome.get(commandId);
      assert.ok(
        previous === undefined || previous === summary,
        `republished outcome of ${commandId} is identical`,
      );
      publishedOutcome.set(commandId, summary);
    }
    const unpublished = accepted.filter((id) => !publishedOutcome.has(id));
    assert.deepEqual(unpublished.slice(0, 5), [], `every outcome reached ${topics.ledgerOutcomes.spec.name}`);

    // No duplicate postings; every transfer balances; money is conserved per asset.
    const duplicatePostings = await db.query(
      "SELECT command_id, account_id, count(*)::int AS n FROM ledger_entries GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5",
    );
    assert.deepEqual(duplicatePostings.rows, [], "no command posted twice to an account");
    const unbalanced = await db.query(
      "SELECT transfer_id FROM ledger_entries GROUP BY 1 HAVING sum(amount) <> 0 LIMIT 5",
    );
    assert.deepEqual(unbalanced.rows, [], "every movement's postings sum to zero");
    const perAsset = await db.query(
      "SELECT asset, sum(balance)::text AS total, count(*)::int AS accounts FROM ledger_accounts GROUP BY asset",
    );
    for (const row of perAsset.rows) assert.equal(row.total, "0", `money is conserved in ${row.asset}`);
    const drift = await db.query(
      `SELECT a.iban, a.balance::text, coalesce(sum(e.amount), 0)::text AS posted
         FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0) LIMIT 5`,
    );
    assert.deepEqual(drift.rows, [], "each balance equals the sum of its postings");

    // Balances equal a rebuild from the balance-changed events.
    const balanceEvents = (await decodeAll(await readWholeTopic(log, topics.balanceChanged.spec.name))).map(
      (e): BalanceEvent => ({
        commandId: String(e.commandId),
        iban: String(e.iban),
        newBalance: e.newBalance as bigint,
      }),
    );
    const rebuilt = rebuildBalances(balanceEvents);
    const stored = await db.query("SELECT iban, balance::text FROM ledger_accounts");
    const mismatches = stored.rows
      .filter((row) => (rebuilt.balances.get(row.iban) ?? 0n).toString() !== row.balance)
      .map((row) => `${row.iban}: ledger ${row.balance}, rebuilt ${rebuilt.balances.get(row.iban) ?? 0n}`);
    assert.deepEqual(mismatches.slice(0, 5), [], "balances equal the rebuild from ledger.balance-changed");
    say(
      `rebuild: ${balanceEvents.length} balance events (${rebuilt.duplicates} republished duplicates), ${stored.rowCount} accounts match`,
    );

    // Per-account order: each sequential client's commands were applied in the order it sent them.
    let orderedChecked = 0;
    for (const [iban, issued] of issuedBySequential) {
      const entries = await db.query(
        `SELECT e.command_id FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
          WHERE a.iban = $1 ORDER BY e.id`,
        [iban],
      );
      const applied = entries.rows.map((r) => r.command_id as string);
      assert.equal(
        orderViolation(issued, applied),
        undefined,
        `postings of ${iban} follow its client's order`,
      );
      assert.equal(
        orderViolation(issued, rebuilt.commandOrder.get(iban) ?? []),
        undefined,
        `balance events of ${iban} follow its client's order`,
      );
      orderedChecked += issued.filter((id) => statusById.get(id) === "CONFIRMED").length;
    }

    // Nothing was dead-lettered.
    for (const { spec } of Object.values(topics)) {
      const ends = await log.admin().endOffsets(deadLetterTopic(spec.name));
      assert.equal(
        ends.reduce((a, b) => a + b, 0n),
        0n,
        `${deadLetterTopic(spec.name)} is empty`,
      );
    }
    const restarts = processes.map((p) => `${p.name}: ${p.unexpectedExits.length}`).join(", ");
    say(
      `PASS: ${accepted.length} accepted commands each decided once (${decided.rows.filter((r) => r.status === "FAILED").length} FAILED), ` +
        `${orderedChecked} confirmed sequential commands in order, money conserved; crash restarts ${restarts}`,
    );
  } finally {
    say("stopping every process this test started");
    await Promise.allSettled(processes.map((p) => p.stop()));
    await log.close().catch(() => {});
    await db.end().catch(() => {});
  }
});
