import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryLog } from "../platform/log/adapters/memory.ts";
import type { TopicDescription, TopicSpec } from "../platform/log/port.ts";
import {
  formatTopicsSyncReport,
  isInternalTopic,
  planTopicsSync,
  syncTopics,
} from "../platform/topics-sync.ts";
import { topicSpecs } from "./topology.ts";

const spec = (name: string, partitions = 3): TopicSpec => ({
  name,
  partitions,
  replicationFactor: 1,
  retentionMs: 60_000,
  cleanupPolicy: "delete",
});
const described = (s: TopicSpec, config: Record<string, string> = {}): TopicDescription => ({
  name: s.name,
  partitions: s.partitions,
  replicationFactor: s.replicationFactor,
  config: { "retention.ms": String(s.retentionMs), "cleanup.policy": s.cleanupPolicy, ...config },
});

test("plan: missing topics are created, matching ones are in sync", () => {
  const plan = planTopicsSync([spec("a"), spec("b")], [described(spec("a"))]);
  assert.deepEqual(
    plan.create.map((s) => s.name),
    ["b"],
  );
  assert.deepEqual(plan.inSync, ["a"]);
  assert.deepEqual(plan.drift, []);
  assert.deepEqual(plan.unknown, []);
});

test("plan: partition count, replication, retention and cleanup policy drift are each reported", () => {
  const existing = described(
    { ...spec("a", 6), replicationFactor: 2 },
    { "retention.ms": "1000", "cleanup.policy": "compact" },
  );
  const plan = planTopicsSync([spec("a", 3)], [existing]);
  assert.deepEqual(plan.create, []);
  assert.deepEqual(plan.inSync, []);
  assert.deepEqual(
    plan.drift.map((d) => [d.setting, d.expected, d.actual]),
    [
      ["partitions", "3", "6"],
      ["replicationFactor", "1", "2"],
      ["retention.ms", "60000", "1000"],
      ["cleanup.policy", "delete", "compact"],
    ],
  );
});

test("plan: a setting the log does not report is not drift", () => {
  const plan = planTopicsSync([spec("a")], [{ name: "a", partitions: 3, replicationFactor: 1, config: {} }]);
  assert.deepEqual(plan.drift, []);
  assert.deepEqual(plan.inSync, ["a"]);
});

test("plan: undeclared topics are unknown, internal ones (leading underscore) never are", () => {
  const plan = planTopicsSync(
    [spec("a")],
    [
      described(spec("a")),
      described(spec("zz")),
      described(spec("__consumer_offsets")),
      described(spec("_schemas")),
    ],
  );
  assert.deepEqual(plan.unknown, ["zz"]);
  assert.equal(isInternalTopic("__consumer_offsets"), true);
  assert.equal(isInternalTopic("ledger.commands"), false);
});

test("sync on a log: creates the topology, leaves drift alone, prunes only when asked, dry run changes nothing", async () => {
  const log = createMemoryLog();
  try {
    const admin = log.admin();
    const desired = topicSpecs(1);
    await admin.createTopics([
      spec("stray"),
      spec("__internal"),
      { ...(desired[0] as TopicSpec), partitions: 2 },
    ]);

    const dry = await syncTopics({ admin, desired, declarations: [], prune: true, dryRun: true });
    assert.equal(dry.created.length, desired.length - 1);
    assert.deepEqual(dry.deleted, ["stray"]);
    assert.equal((await admin.listTopics()).length, 3, "a dry run changes nothing");
    assert.ok(formatTopicsSyncReport(dry).some((line) => line.startsWith("would create")));

    const first = await syncTopics({ admin, desired, declarations: [], prune: false, dryRun: false });
    assert.equal(first.created.length, desired.length - 1);
    assert.deepEqual(first.unknown, ["stray"]);
    assert.deepEqual(first.deleted, []);
    assert.equal(first.needsAttention, true);
    assert.deepEqual(
      first.drift.map((d) => [d.topic, d.setting, d.actual]),
      [[desired[0]?.name, "partitions", "2"]],
    );
    const names = (await admin.listTopics()).map((t) => t.name);
    for (const s of desired) assert.ok(names.includes(s.name), `${s.name} exists`);
    assert.equal((await admin.listTopics()).find((t) => t.name === desired[0]?.name)?.partitions, 2);

    const pruned = await syncTopics({ admin, desired, declarations: [], prune: true, dryRun: false });
    assert.deepEqual(pruned.created, []);
    assert.deepEqual(pruned.deleted, ["stray"]);
    const after = (await admin.listTopics()).map((t) => t.name);
    assert.ok(!after.includes("stray"));
    assert.ok(after.includes("__internal"), "internal topics are never pruned");
  } finally {
    await log.close();
  }
});
