import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../clock.ts";
import { InfrastructureError, InvariantViolation, PoisonMessageError, UnavailableError } from "../errors.ts";
import { createMemoryLog } from "./adapters/memory.ts";
import { backoffMs, deadLetterHeaders, runConsumer } from "./consumer.ts";
import type { Log, LogRecord } from "./port.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (r: LogRecord): string => decoder.decode(r.value);
const retry = { attemptsMax: 3, backoffBaseMs: 1, backoffMaxMs: 5 };

async function logWith(values: readonly string[]): Promise<Log> {
  const log = createMemoryLog();
  const spec = { partitions: 1, replicationFactor: 1, retentionMs: 60_000, cleanupPolicy: "delete" as const };
  await log.admin().createTopics([
    { name: "payments", ...spec },
    { name: "payments.dlq", ...spec },
  ]);
  await log.producer().send(
    values.map((v) => ({
      topic: "payments",
      key: "k",
      value: encoder.encode(v),
      headers: { origin: "test" },
    })),
  );
  return log;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const committedAll = (log: Log) => async () =>
  (await log.admin().committedOffsets("g", "payments"))[0] === (await log.admin().endOffsets("payments"))[0];

test("backoff grows exponentially, is capped and jittered within [cap/2, cap]", () => {
  const random = seededRandom(7);
  const policy = { attemptsMax: 10, backoffBaseMs: 100, backoffMaxMs: 1_000 };
  const caps = [100, 200, 400, 800, 1_000, 1_000];
  caps.forEach((cap, i) => {
    const delay = backoffMs(policy, i + 1, random);
    assert.ok(delay >= cap / 2 && delay <= cap, `attempt ${i + 1}: ${delay} not in [${cap / 2}, ${cap}]`);
  });
  const samples = Array.from({ length: 50 }, () => backoffMs(policy, 3, random));
  assert.ok(new Set(samples).size > 10, "jitter varies");
  assert.equal(backoffMs(policy, 1, { next: () => 0, bytes: () => new Uint8Array() }), 50);
});

test("a batch failing with an infrastructure error is retried until it succeeds", async () => {
  const log = await logWith(["a", "b", "c"]);
  let failuresLeft = 2;
  const deliveries: string[][] = [];
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    random: seededRandom(1),
    handle: async (records) => {
      deliveries.push(records.map(text));
      if (failuresLeft-- > 0) throw new InfrastructureError("timeout", "ledger did not answer");
    },
  });
  await waitFor(committedAll(log), "the commit");
  await running.stop();
  await running.done;
  assert.deepEqual(deliveries, [
    ["a", "b", "c"],
    ["a", "b", "c"],
    ["a", "b", "c"],
  ]);
  assert.deepEqual(await log.admin().endOffsets("payments.dlq"), [0n]);
});

test("a poison record goes to the dead-letter topic with its error and origin, the rest is handled", async () => {
  const log = await logWith(["a", "b", "poison", "d"]);
  const handled: string[] = [];
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    handle: async (records) => {
      if (records.some((r) => text(r) === "poison")) throw new PoisonMessageError("amount is not an integer");
      handled.push(...records.map(text));
    },
  });
  await waitFor(committedAll(log), "the commit");
  await running.stop();
  assert.deepEqual(handled, ["a", "b", "d"]);
  const [dead, ...more] = await log.read("payments.dlq", 0, 0n, 10);
  assert.equal(more.length, 0);
  assert.ok(dead);
  assert.equal(text(dead), "poison");
  assert.equal(dead.key, "k");
  assert.deepEqual(
    { ...dead.headers },
    {
      origin: "test",
      [deadLetterHeaders.errorCode]: "poison_message",
      [deadLetterHeaders.errorMessage]: "amount is not an integer",
      [deadLetterHeaders.topic]: "payments",
      [deadLetterHeaders.partition]: "0",
      [deadLetterHeaders.offset]: "2",
      [deadLetterHeaders.attempts]: "1",
    },
  );
});

test("after attemptsMax failed attempts the batch is retried record by record to isolate the culprit", async () => {
  const log = await logWith(["a", "bad", "c"]);
  const calls: string[][] = [];
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    handle: async (records) => {
      calls.push(records.map(text));
      if (records.some((r) => text(r) === "bad")) throw new TypeError("cannot read properties of undefined");
    },
  });
  await waitFor(committedAll(log), "the commit");
  await running.stop();
  assert.deepEqual(calls, [["a", "bad", "c"], ["a", "bad", "c"], ["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
  const dead = await log.read("payments.dlq", 0, 0n, 10);
  assert.deepEqual(dead.map(text), ["bad"]);
  assert.equal(dead[0]?.headers[deadLetterHeaders.errorCode], "TypeError");
  assert.equal(dead[0]?.headers[deadLetterHeaders.attempts], "4");
});

test("an unavailable dependency is never mistaken for a poison record", async () => {
  const log = await logWith(["a", "b"]);
  let down = true;
  let attempts = 0;
  const handled: string[] = [];
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    handle: async (records) => {
      attempts += 1;
      if (down) {
        if (attempts === 6) down = false;
        throw new UnavailableError("ledger");
      }
      handled.push(...records.map(text));
    },
  });
  await waitFor(committedAll(log), "the commit");
  await running.stop();
  assert.deepEqual(handled, ["a", "b"]);
  assert.ok(attempts > retry.attemptsMax, "kept retrying past attemptsMax");
  assert.deepEqual(await log.admin().endOffsets("payments.dlq"), [0n]);
});

test("a raw driver error (refused connection) is treated as unavailable, not as poison", async () => {
  const log = await logWith(["a", "b"]);
  let attempts = 0;
  const handled: string[] = [];
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    handle: async (records) => {
      attempts += 1;
      if (attempts <= 6)
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      handled.push(...records.map(text));
    },
  });
  await waitFor(committedAll(log), "the commit");
  await running.stop();
  assert.deepEqual(handled, ["a", "b"]);
  assert.deepEqual(await log.admin().endOffsets("payments.dlq"), [0n]);
});

test("an invariant violation stops the consumer without committing and rejects done", async () => {
  const log = await logWith(["a", "b"]);
  let calls = 0;
  const running = await runConsumer(log, {
    groupId: "g",
    topics: ["payments"],
    retry,
    handle: async () => {
      calls += 1;
      throw new InvariantViolation("debits must equal credits");
    },
  });
  await assert.rejects(running.done, (error) => error instanceof InvariantViolation);
  assert.deepEqual(running.assignment(), []);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 1);
  assert.deepEqual(await log.admin().committedOffsets("g", "payments"), [0n]);
  assert.deepEqual(await log.admin().endOffsets("payments.dlq"), [0n]);
  await log.close();
});
