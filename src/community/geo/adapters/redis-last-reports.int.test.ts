/** Last reports on a real redis-server: the shared contract; shared by instances; Redis drops them itself. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@redis/client";
import { redisSkip, startTestRedis, type TestRedis } from "../../../../test/support/redis.ts";
import { describeLastReportsContract } from "../last-reports.cases.ts";
import { createRedisLastReports } from "./redis-last-reports.ts";

describe("Redis last reports", { skip: redisSkip("the Redis last reports") }, () => {
  let redis: TestRedis;
  let stores = 0;
  before(async () => {
    redis = await startTestRedis();
  });
  after(() => redis?.stop());

  describe("the contract", () => {
    describeLastReportsContract(async () =>
      createRedisLastReports({ url: redis.url, keyPrefix: `test:${++stores}:`, commandTimeoutMs: 10_000 }),
    );
  });

  test("a report written by one process is read by another; Redis expires the key by itself", async () => {
    const options = { url: redis.url, keyPrefix: `test:shared:${++stores}:` };
    const [writer, reader] = [createRedisLastReports(options), createRedisLastReports(options)];
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const atMs = Date.now();
      const report = { point: { lat: 52.37, lon: 4.9 }, accuracyM: 5, atMs };
      await writer.set("user-moving", report, atMs + 300);
      assert.deepEqual(await reader.get("user-moving", atMs), report);
      const ttlMs = Number(await client.pTTL(`${options.keyPrefix}last:user-moving`));
      assert.ok(ttlMs > 0 && ttlMs <= 300, `PTTL ${ttlMs}`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(await client.exists(`${options.keyPrefix}last:user-moving`), 0);
    } finally {
      await client.close();
      await writer.close();
      await reader.close();
    }
  });
});
