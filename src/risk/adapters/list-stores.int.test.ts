/**
 * One contract (list-store.cases.ts), two stores: PostgreSQL (embedded mode) on a real embedded
 * PostgreSQL, Redis (distributed mode) on a real redis-server.
 */
import { after, before, describe } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { redisSkip, startTestRedis, type TestRedis } from "../../../test/support/redis.ts";
import { moduleMigrations } from "../../app/modules.ts";
import { migrate } from "../../platform/db/migrate.ts";
import { describeListStoreContract } from "../list-store.cases.ts";
import type { ListStore } from "../lists.ts";
import { createPostgresListStore } from "./postgres-lists.ts";
import { createRedisListStore, type RedisListStore } from "./redis-lists.ts";

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
