/**
 * One contract (list-store.cases.ts), two stores: PostgreSQL (embedded mode) on a real embedded
 * PostgreSQL, Redis (distributed mode) on a real redis-server.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@redis/client";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { redisSkip, startTestRedis, type TestRedis } from "../../../test/support/redis.ts";
import { moduleMigrations } from "../../app/modules.ts";
import { migrate } from "../../platform/db/migrate.ts";
import { diffList, keyed } from "../domain/diff.ts";
import { entryOfLine, type ListEntry } from "../domain/entries.ts";
import { describeListStoreContract } from "../list-store.cases.ts";
import type { ListStore } from "../lists.ts";
import { createPostgresListStore } from "./postgres-lists.ts";
import { createRedisListStore, diffVersionsKept, type RedisListStore } from "./redis-lists.ts";

describe("list store contract: PostgreSQL", () => {
  let db: TestDatabase;
  let store: ListStore;
  before(async () => {
    db = await startTestDatabase();
    await migrate(db.pool, moduleMigrations);
    store = createPostgresListStore(db.pool);
  });
  after(() => db?.close());
  describeListStoreContract(() => store);
});

describe("list store contract: Redis", { skip: redisSkip("the Redis list store contract") }, () => {
  let redis: TestRedis;
  let store: RedisListStore;
  before(async () => {
    redis = await startTestRedis();
    store = createRedisListStore({ url: redis.url });
  });
  after(async () => {
    await store?.close();
    await redis?.stop();
  });
  describeListStoreContract(() => store);
});

describe("Redis list store: memory stays bounded", { skip: redisSkip("the Redis list store") }, () => {
  test(`only the last ${diffVersionsKept} versions' differences are kept`, async () => {
    const redis = await startTestRedis();
    const store = createRedisListStore({ url: redis.url });
    const client = createClient({ url: redis.url });
    try {
      await client.connect();
      let version = 0;
      for (let n = 1; n <= diffVersionsKept + 8; n++) {
        const current = await store.currentKeys("bounded");
        const next = keyed([entryOfLine(`Jan${"x".repeat(n)} Smith`) as ListEntry]);
        version = await store.saveVersion("bounded", current.version, diffList(current.keys, next), {
          source: "test",
          format: "lines",
          atMs: 1_700_000_000_000 + n,
        });
      }
      const diffKeys = await client.keys("*bounded:v*:added");
      assert.equal(diffKeys.length, diffVersionsKept);
      assert.ok(!diffKeys.some((key) => key.endsWith(":v1:added")));
      assert.equal(version, diffVersionsKept + 8);
    } finally {
      await client.quit();
      await store.close();
      await redis.stop();
    }
  });
});
