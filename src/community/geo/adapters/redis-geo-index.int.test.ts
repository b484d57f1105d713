/**
 * The distributed nearby-officers index on a real redis-server: the shared contract (the same cases
 * and answers as the memory index), then what Redis holds: expired entries leave it, bounded per call.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@redis/client";
import { redisSkip, startTestRedis, type TestRedis } from "../../../../test/support/redis.ts";
import { describeNearbyIndexContract } from "./nearby-index.cases.ts";
import { createRedisGeoIndex } from "./redis-geo-index.ts";

describe("Redis GEO nearby index", { skip: redisSkip("the Redis GEO nearby index") }, () => {
  let redis: TestRedis;
  let indexes = 0;
  before(async () => {
    redis = await startTestRedis();
  });
  after(() => redis?.stop());

  describe("the contract", () => {
    describeNearbyIndexContract(async () =>
      createRedisGeoIndex({ url: redis.url, keyPrefix: `test:${++indexes}:`, commandTimeoutMs: 10_000 }),
    );
  });

  test("expired entries leave Redis (all four keys), at most purgeBatchMax per call", async () => {
    const nowMs = 1_800_000_000_000;
    const prefix = `test:purge:${++indexes}:`;
    const index = createRedisGeoIndex({ url: redis.url, keyPrefix: prefix, purgeBatchMax: 4 });
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const here = { lat: 52.37, lon: 4.9 };
      for (let i = 0; i < 10; i++)
        await index.put({ id: `expired-${i}`, point: here, accuracyM: 5, untilMs: nowMs + i });
      await index.put({ id: "polar", point: { lat: 89.5, lon: 10 }, accuracyM: 5, untilMs: nowMs });
      await index.put({ id: "open", point: here, accuracyM: 5, untilMs: nowMs + 60_000 });
      const counts = async () => [
        Number(await client.zCard(`${prefix}positions`)) + Number(await client.sCard(`${prefix}polar`)),
        Number(await client.zCard(`${prefix}until`)),
        Number(await client.hLen(`${prefix}exact`)),
      ];
      assert.deepEqual(await counts(), [12, 12, 12]);
      assert.deepEqual(
        (await index.near(here, 10, 5, nowMs + 100)).map((o) => o.id),
        ["open"],
      );
      assert.deepEqual(await counts(), [8, 8, 8]);
      assert.equal(await index.purgeExpired(nowMs + 100, 100), 7);
      assert.deepEqual(await counts(), [1, 1, 1]);
    } finally {
      await client.close();
      await index.close();
    }
  });

  test("two instances on one Redis answer alike (what distributed mode is for)", async () => {
    const nowMs = 1_800_000_000_000;
    const options = { url: redis.url, keyPrefix: `test:shared:${++indexes}:` };
    const [writer, reader] = [createRedisGeoIndex(options), createRedisGeoIndex(options)];
    try {
      await writer.put({
        id: "officer-shared",
        point: { lat: 52.37, lon: 4.9 },
        accuracyM: 8,
        untilMs: nowMs + 1_000,
      });
      const found = await reader.near({ lat: 52.371, lon: 4.9 }, 500, 5, nowMs);
      assert.deepEqual(
        found.map((o) => [o.id, o.accuracyM]),
        [["officer-shared", 8]],
      );
      await reader.remove("officer-shared");
      assert.equal(await writer.positionOf("officer-shared", nowMs), undefined);
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});
