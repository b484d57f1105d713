import assert from "node:assert/strict";
import { test } from "node:test";
import { topology } from "../../../app/topology.ts";
import { deadLetterHeaders } from "../consumer.ts";
import type { LogRecord } from "../port.ts";
import { asDeadLetterTopic, deadLetterTopics, replayRecord } from "./cli.ts";

const dead: LogRecord = {
  topic: "ledger.commands.dlq",
  partition: 0,
  offset: 7n,
  key: "NL00OPEN0000000001",
  value: Uint8Array.from([0, 0, 0, 0, 5, 1, 2]),
  headers: {
    trace: "abc",
    [deadLetterHeaders.topic]: "ledger.commands",
    [deadLetterHeaders.partition]: "3",
    [deadLetterHeaders.offset]: "42",
    [deadLetterHeaders.errorCode]: "poison_message",
    [deadLetterHeaders.errorMessage]: "bad",
    [deadLetterHeaders.attempts]: "1",
  },
  timestampMs: 0,
};

test("replay sends the original key, value and headers back to the original topic, marked", () => {
  const record = replayRecord(dead);
  assert.equal(record.topic, "ledger.commands");
  assert.equal(record.key, dead.key);
  assert.deepEqual(record.value, dead.value);
  assert.deepEqual(record.headers, { trace: "abc", "dlq.replayed.from": "ledger.commands.dlq/0/7" });
  assert.equal(record.partition, undefined, "the partition follows from the key, as for the original");
});

test("a record without its original topic cannot be replayed", () => {
  assert.throws(() => replayRecord({ ...dead, headers: {} }), /no original topic/);
});

test("topic names: either the dead-letter topic or the topic it belongs to", () => {
  assert.equal(asDeadLetterTopic("ledger.commands"), "ledger.commands.dlq");
  assert.equal(asDeadLetterTopic("ledger.commands.dlq"), "ledger.commands.dlq");
  assert.ok(deadLetterTopics(topology).includes("ledger.balance-changed.dlq"));
});
