/**
 * The Kafka adapter against a real broker: `npm run services:up` (or any broker), then
 *   LEDGERFLOW_KAFKA_BROKERS=127.0.0.1:19092 node --test src/platform/log/adapters/kafka.int.test.ts
 * Without LEDGERFLOW_KAFKA_BROKERS every test here is skipped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Admin } from "@platformatic/kafka";
import { logContract } from "../contract.ts";
import type { Consumer, Log, LogRecord, TopicSpec } from "../port.ts";
import { createKafkaLog, type KafkaLogOptions, type ProduceSample } from "./kafka.ts";

const brokers = process.env.LEDGERFLOW_KAFKA_BROKERS;
const skip = brokers ? false : "LEDGERFLOW_KAFKA_BROKERS is not set (run `npm run services:up` first)";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const brokerList = (brokers ?? "").split(",");

/** A Kafka log for one test; `name` tells its clients apart in the broker's logs. */
const open = (name = "contract", settings: Partial<KafkaLogOptions> = {}): Log =>
  createKafkaLog({
    brokers: brokerList,
    clientId: `int-${name}-${process.pid}`,
    sessionTimeoutMs: 6_000,
    ...settings,
  });

if (brokers) {
  const opened: Log[] = [];
  logContract("kafka", async () => ({
    durable: true,
    open: async () => {
      const log = open();
      opened.push(log);
      return log;
    },
    close: async () => {
      await Promise.allSettled(opened.map((log) => log.close()));
    },
  }));
}

function uniqueTopic(partitions: number): TopicSpec {
  return {
    name: `kafka-int-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    partitions,
    replicationFactor: 1,
    retentionMs: 3_600_000,
    cleanupPolicy: "delete",
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("kafka: a member that stops hands its partitions over without losing records", { skip }, async () => {
  const log = open();
  try {
    const spec = uniqueTopic(4);
    await log.admin().createTopics([spec]);
    const handled = new Map<string, number>();
    const handler = async (records: readonly LogRecord[]) => {
      for (const r of records)
        handled.set(`${r.partition}:${r.offset}`, (handled.get(`${r.partition}:${r.offset}`) ?? 0) + 1);
    };
    const options = {
      groupId: `g-${spec.name}`,
      topics: [spec.name],
      batchSizeMax: 50,
      fetchWaitMaxMs: 100,
      startFrom: "earliest" as const,
    };
    const a = log.consumer(options);
    const b = log.consumer(options);
    await a.start(handler, () => ({ retryAfterMs: 50 }));
    await b.start(handler, () => ({ retryAfterMs: 50 }));
    await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, "two partitions each");
    let sent = 0;
    for (let round = 0; round < 10; round++) {
      await log.producer().send(
        Array.from({ length: 100 }, (_, i) => ({
          topic: spec.name,
          key: `k-${sent + i}`,
          value: encoder.encode("v"),
        })),
      );
      sent += 100;
      if (round === 4) await a.stop();
    }
    await waitFor(() => handled.size === sent, `${sent} records`);
    await waitFor(() => b.assignment().length === 4, "b owns every partition");
    await b.stop();
    assert.equal(handled.size, sent, "no record lost");
    assert.deepEqual(
      await log.admin().committedOffsets(options.groupId, spec.name),
      await log.admin().endOffsets(spec.name),
    );
  } finally {
    await log.close();
  }
});

test("kafka: members joining and leaving under load (cooperative revoke rounds) skip no record", {
  skip,
  timeout: 120_000,
}, async (t) => {
  const warnings: string[] = [];
  const log = open("churn", {
    onConsumerWarning: (message, details) => warnings.push(`${message} ${JSON.stringify(details)}`),
  });
  try {
    const spec = uniqueTopic(6);
    await log.admin().createTopics([spec]);
    const handled = new Set<string>();
    const handler = async (records: readonly LogRecord[]) => {
      for (const r of records) handled.add(`${r.partition}:${r.offset}`);
      // Slow enough that batches are in flight while partitions move.
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const options = {
      groupId: `g-${spec.name}`,
      topics: [spec.name],
      batchSizeMax: 40,
      fetchWaitMaxMs: 50,
      startFrom: "earliest" as const,
    };
    const steady = log.consumer(options);
    await steady.start(handler, () => ({ retryAfterMs: 20 }));
    let sent = 0;
    let producing = true;
    t.after(() => {
      producing = false;
    });
    const producer = (async () => {
      while (producing) {
        await log.producer().send(
          Array.from({ length: 50 }, (_, i) => ({
            topic: spec.name,
            key: `k-${sent + i}`,
            value: encoder.encode("v"),
          })),
        );
        sent += 50;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    for (let round = 0; round < 4; round++) {
      const joiners = [log.consumer(options), log.consumer(options)];
      for (const joiner of joiners) await joiner.start(handler, () => ({ retryAfterMs: 20 }));
      await new Promise((resolve) => setTimeout(resolve, 700));
      for (const joiner of joiners) await joiner.stop();
    }
    producing = false;
    await producer;
    const ends = await log.admin().endOffsets(spec.name);
    try {
      await waitFor(() => handled.size === sent, `${sent} records handled (have ${handled.size})`, 60_000);
    } catch (error) {
      // Which partitions stalled, and where: the first unhandled offset of each, and the repairs.
      const stalls = ends.map((end, partition) => {
        let first = 0n;
        while (first < end && handled.has(`${partition}:${first}`)) first += 1n;
        return `p${partition}: end ${end}, first unhandled ${first}`;
      });
      process.stdout.write(`# stalled: ${stalls.join("; ")}\n# warnings: ${warnings.join("\n#   ")}\n`);
      process.stdout.write(`# steady member owns: ${JSON.stringify(steady.assignment())}\n`);
      throw error;
    }
    assert.equal(
      ends.reduce((a, b) => a + b, 0n),
      BigInt(sent),
    );
    for (const [partition, end] of ends.entries())
      for (let offset = 0n; offset < end; offset++)
        assert.ok(handled.has(`${partition}:${offset}`), `${partition}:${offset} handled`);
    await steady.stop();
    if (warnings.length > 0) process.stdout.write(`# position repairs: ${warnings.length}\n`);
  } finally {
    await log.close();
  }
});

test("kafka: a committed position that retention deleted moves to the log start, promptly and with a warning", {
  skip,
  timeout: 60_000,
}, async () => {
  const warnings: string[] = [];
  const log = open("retention", { onConsumerWarning: (message) => warnings.push(message) });
  const admin = new Admin({ clientId: `int-retention-admin-${process.pid}`, bootstrapBrokers: brokerList });
  try {
    const spec = uniqueTopic(1);
    await log.admin().createTopics([spec]);
    const send = (from: number, count: number) =>
      log.producer().send(
        Array.from({ length: count }, (_, i) => ({
          topic: spec.name,
          key: "k",
          value: encoder.encode(`${from + i}`),
        })),
      );
    const options = {
      groupId: `g-${spec.name}`,
      topics: [spec.name],
      batchSizeMax: 50,
      fetchWaitMaxMs: 50,
      startFrom: "earliest" as const,
    };
    const handled: bigint[] = [];
    const handler = async (records: readonly LogRecord[]) => {
      for (const r of records) handled.push(r.offset);
    };
    await send(0, 10);
    const first = log.consumer(options);
    await first.start(handler, () => ({ retryAfterMs: 20 }));
    await waitFor(() => handled.length === 10, "the first 10 records");
    await first.stop();
    assert.deepEqual(await log.admin().committedOffsets(options.groupId, spec.name), [10n]);

    // Offsets 10..29 are written, then 10..19 deleted before the group read them (what retention does).
    await send(10, 20);
    await admin.deleteRecords({ topics: [{ name: spec.name, partitions: [{ partition: 0, offset: 20n }] }] });
    handled.length = 0;
    const second = log.consumer(options);
    const startedMs = performance.now();
    await second.start(handler, () => ({ retryAfterMs: 20 }));
    // The earlier rule (skip after 50 rewinds ≥ 100 ms apart) needed at least 5 s here.
    await waitFor(() => handled.length === 10, "the 10 records after the log start", 4_000);
    const resumedMs = performance.now() - startedMs;
    await second.stop();
    assert.deepEqual(
      handled,
      Array.from({ length: 10 }, (_, i) => BigInt(20 + i)),
      "exactly the surviving records, in order",
    );
    assert.ok(
      warnings.some((w) => w.startsWith("records deleted by retention")),
      `a warning names the skipped range: ${warnings.join(" | ")}`,
    );
    assert.ok(resumedMs < 4_000, `resumed in ${Math.round(resumedMs)} ms`);
  } finally {
    await admin.close();
    await log.close();
  }
});

test("kafka: a record sent by another log instance is read back with read()", { skip }, async () => {
  const writer = open();
  const reader = open();
  try {
    const spec = uniqueTopic(2);
    await writer.admin().createTopics([spec]);
    const [position] = await writer
      .producer()
      .send([{ topic: spec.name, key: "same-key", value: encoder.encode("hello"), headers: { h: "1" } }]);
    assert.ok(position);
    const [stored] = await reader.read(spec.name, position.partition, position.offset, 10);
    assert.equal(stored && decoder.decode(stored.value), "hello");
    assert.deepEqual(stored && { ...stored.headers }, { h: "1" });
    assert.deepEqual(await reader.read(spec.name, position.partition, position.offset + 1n, 10), []);
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
});

test("kafka: concurrent sends share produce requests, each caller gets its own offsets", {
  skip,
}, async () => {
  const requests: ProduceSample[] = [];
  const log = open("coalesce", { lingerMs: 5, onProduce: (sample) => requests.push(sample) });
  try {
    const spec = uniqueTopic(3);
    await log.admin().createTopics([spec]);
    const sends = 200;
    const results = await Promise.all(
      Array.from({ length: sends }, (_, i) =>
        log.producer().send([
          { topic: spec.name, key: `k-${i % 7}`, value: encoder.encode(`${i}-a`) },
          { topic: spec.name, key: `k-${i % 7}`, value: encoder.encode(`${i}-b`) },
        ]),
      ),
    );
    assert.ok(requests.length < sends / 4, `${sends} sends went out in ${requests.length} requests`);
    assert.equal(
      requests.reduce((sum, r) => sum + r.records, 0),
      sends * 2,
    );
    // Every position names the caller's own record, and a call's records of one partition are adjacent.
    for (const [i, positions] of results.entries()) {
      const [a, b] = positions;
      assert.ok(a && b);
      assert.equal(b.offset, a.offset + 1n);
      const [stored] = await log.read(spec.name, a.partition, a.offset, 1);
      assert.equal(stored && decoder.decode(stored.value), `${i}-a`);
    }
    const unique = new Set(results.flat().map((p) => `${p.partition}:${p.offset}`));
    assert.equal(unique.size, sends * 2, "no two records share an offset");
  } finally {
    await log.close();
  }
});

test("kafka: a send to a missing topic fails alone, not the sends it was coalesced with", {
  skip,
}, async () => {
  const log = open("missing", { lingerMs: 20 });
  try {
    const spec = uniqueTopic(1);
    await log.admin().createTopics([spec]);
    const good = log.producer().send([{ topic: spec.name, key: "k", value: encoder.encode("ok") }]);
    const bad = log
      .producer()
      .send([{ topic: `${spec.name}-missing`, key: "k", value: encoder.encode("no") }]);
    const [goodResult, badResult] = await Promise.allSettled([good, bad]);
    assert.equal(goodResult.status, "fulfilled");
    assert.equal(badResult.status, "rejected");
    assert.equal((badResult as PromiseRejectedResult).reason?.code, "unknown_topic");
  } finally {
    await log.close();
  }
});

test("kafka: fetchBytesMin makes the broker hold a fetch until enough bytes or fetchWaitMaxMs", {
  skip,
  timeout: 60_000,
}, async () => {
  const log = open();
  try {
    const spec = uniqueTopic(1);
    await log.admin().createTopics([spec]);
    const batches: { readonly count: number; readonly atMs: number }[] = [];
    const consumer = log.consumer({
      groupId: `g-${spec.name}`,
      topics: [spec.name],
      batchSizeMax: 100,
      fetchWaitMaxMs: 600,
      // Far more than the five records below: only the wait ends the fetch.
      fetchBytesMin: 1_048_576,
      startFrom: "earliest",
    });
    await consumer.start(
      async (records) => {
        batches.push({ count: records.length, atMs: performance.now() });
      },
      () => ({ retryAfterMs: 20 }),
    );
    const send = (value: string) =>
      log.producer().send([{ topic: spec.name, key: "k", value: encoder.encode(value) }]);
    // A first record ends the fetch in flight; the stream's next fetch starts as it is handed over, so
    // the five records below are all sent well within that fetch's wait.
    await send("marker");
    await waitFor(() => batches.length === 1, "the marker");
    const sentMs = performance.now();
    for (let i = 0; i < 5; i++) {
      await send(`${i}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => batches.reduce((sum, b) => sum + b.count, 0) === 6, "five records", 10_000);
    await consumer.stop();
    const held = batches[1];
    assert.ok(held);
    // With fetch.min.bytes 1 the first of them comes alone within a few ms of its send.
    assert.equal(
      held.count,
      5,
      `one batch of five after the marker (${batches.map((b) => b.count).join(", ")})`,
    );
    assert.ok(held.atMs - sentMs >= 150, `held by the broker: ${Math.round(held.atMs - sentMs)} ms`);
  } finally {
    await log.close();
  }
});

test("kafka: a member expelled while it looks up the position of a partition it was just handed gets that position (the rejoin hands back the same partitions)", {
  skip,
  timeout: 120_000,
}, async () => {
  const admin = new Admin({ clientId: `int-expel-admin-${process.pid}`, bootstrapBrokers: brokerList });
  const spec = uniqueTopic(2);
  const groupId = `g-${spec.name}`;
  let expelOnNextLookup = false;
  let a: Consumer | undefined;
  const expelled = Promise.withResolvers<void>();
  const logA = open("expel-a", {
    // The fault placed at the lookup: the broker expels this member (as after a missed session, or
    // a broker restart), and the lookup goes on while the client rejoins.
    beforePositionLookup: async () => {
      if (!expelOnNextLookup) return;
      expelOnNextLookup = false;
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      const memberA = [...(group?.members.values() ?? [])].find((m) => m.clientId.includes("expel-a"));
      assert.ok(memberA, "member A is in the group");
      await admin.removeMembersFromConsumerGroup({ groupId, members: [{ memberId: memberA.id }] });
      // The client empties its assignment when its next heartbeat hears UNKNOWN_MEMBER_ID, then rejoins.
      const deadline = Date.now() + 10_000;
      while ((a?.assignment().length ?? 0) > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      expelled.resolve();
    },
  });
  const logB = open("expel-b");
  try {
    await logA.admin().createTopics([spec]);
    const options = {
      groupId,
      topics: [spec.name],
      batchSizeMax: 20,
      fetchWaitMaxMs: 50,
      startFrom: "earliest" as const,
    };
    const handled = new Set<string>();
    const handler = async (records: readonly LogRecord[]) => {
      for (const r of records) handled.add(`${r.partition}:${r.offset}`);
    };
    let sent = 0;
    const send = async (count: number) => {
      await logA.producer().send(
        Array.from({ length: count }, (_, i) => ({
          topic: spec.name,
          key: `k-${sent + i}`,
          value: encoder.encode("v"),
          partition: (sent + i) % 2,
        })),
      );
      sent += count;
    };
    const memberA = logA.consumer(options);
    a = memberA;
    await memberA.start(handler, () => ({ retryAfterMs: 50 }));
    await send(40);
    await waitFor(() => handled.size === sent, "the first records");
    // B takes one partition over, then leaves: A is handed it back and looks its position up.
    const b = logB.consumer(options);
    await b.start(handler, () => ({ retryAfterMs: 50 }));
    await waitFor(
      () => memberA.assignment().length === 1 && b.assignment().length === 1,
      "one partition each",
    );
    await send(40);
    await waitFor(() => handled.size === sent, "records of both members");
    expelOnNextLookup = true;
    await b.stop();
    await expelled.promise;
    await waitFor(() => memberA.assignment().length === 2, "A owns both partitions again");
    await send(40);
    try {
      await waitFor(() => handled.size === sent, `${sent} records handled`, 15_000);
    } catch (error) {
      const ends = await logA.admin().endOffsets(spec.name);
      const unhandled = ends.map((end, partition) => {
        let count = 0;
        for (let offset = 0n; offset < end; offset++) if (!handled.has(`${partition}:${offset}`)) count++;
        return `p${partition}: ${count} of ${end} unhandled`;
      });
      throw new Error(`${(error as Error).message}; ${unhandled.join(", ")}`);
    }
    await memberA.stop();
  } finally {
    await admin.close();
    await Promise.allSettled([logA.close(), logB.close()]);
  }
});
