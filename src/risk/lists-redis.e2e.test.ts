/**
 * Distributed mode's list storage over real HTTP, a real Redis and the whole platform started with
 * LEDGERFLOW_REDIS_URL: a list loaded by another process (as `ledgerflow feeder` run elsewhere) goes
 * to Redis, the platform's screener follows the same version and blocks the listed receiver, another
 * handler's index refreshing from the same Redis sees the same version, and `GET /v1/risk/lists`
 * shows the version, counts and last load; a refused load leaves the version in force everywhere.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@redis/client";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import { redisSkip, startTestRedis, type TestRedis } from "../../test/support/redis.ts";
import { createRedisListStore, type RedisListStore } from "./adapters/redis-lists.ts";
import { feedList } from "./feeder.ts";
import { ScreeningIndex } from "./screening-index.ts";

type Client = ReturnType<ReturnType<typeof apiClient>["as"]>;

describe("screening lists in Redis (distributed mode)", {
  skip: redisSkip("the Redis list e2e test"),
}, () => {
  let redis: TestRedis;
  let tp: TestPlatform;
  let elsewhere: RedisListStore;
  let dir: string;
  let alice: Client;
  let admin: Client;
  let aliceIban: string;
  let bobIban: string;

  before(async () => {
    redis = await startTestRedis();
    dir = await mkdtemp(join(tmpdir(), "ledgerflow-risk-redis-"));
    tp = await startTestPlatform({ redis: { url: redis.url }, risk: { refreshIntervalMs: 100 } });
    elsewhere = createRedisListStore({ url: redis.url });
    const api = apiClient(tp.url);
    alice = api.as(await api.signUp("alice"));
    const bob = api.as(await api.signUp("bob"));
    admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
    const open = async (as: Client) =>
      (await as.post("/v1/accounts", { id: randomUUID(), asset: "EUR" })).body.iban as string;
    aliceIban = await open(alice);
    bobIban = await open(bob);
    const funded = await admin.post("/v1/operations", {
      ...{ id: randomUUID(), type: "deposit", iban: aliceIban, amount: "10000" },
      branch: "utrecht",
    });
    assert.equal(funded.status, 201, JSON.stringify(funded.body));
  });
  after(async () => {
    await elsewhere?.close();
    await tp?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Loads `text` into Redis from outside the platform, as `ledgerflow feeder` in another process. */
  async function feedElsewhere(name: string, text: string) {
    const path = join(dir, name);
    await writeFile(path, text);
    return feedList(elsewhere, {
      list: "fraud",
      source: { kind: "file", path },
      format: "lines",
      limits: { bytesMax: 1 << 20, entriesMax: 1_000, lineBytesMax: 4_096 },
      fetchTimeoutMs: 1_000,
      nowMs: () => Date.now(),
    });
  }

  async function platformScreens(version: number): Promise<void> {
    for (let waited = 0; tp.platform.risk.screeningVersions().get("fraud") !== version; waited += 50) {
      assert.ok(
        waited < 10_000,
        `the platform still screens against ${tp.platform.risk.screeningVersions().get("fraud")}`,
      );
      await sleep(50);
    }
  }

  test("a version loaded elsewhere is in Redis, screened by the platform and by every other index", async () => {
    const report = await feedElsewhere("v1.txt", `${bobIban}\nJan de Vries\n`);
    assert.deepEqual([report.version, report.added], [1, 2]);
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      assert.equal(await raw.get("ledgerflow:risk:lists:fraud:version"), "1");
      assert.equal(await raw.hLen("ledgerflow:risk:lists:fraud:v1:entries"), 2);
    } finally {
      raw.destroy();
    }
    const inPostgres = await tp.platform.pool.query(
      "SELECT count(*)::int AS n FROM risk_lists WHERE list = 'fraud'",
    );
    assert.equal(inPostgres.rows[0].n, 0, "lists live in Redis in this mode");
    await platformScreens(1);
    const blocked = await alice.post("/v1/transfers", {
      ...{ id: randomUUID(), from: aliceIban, to: bobIban, amount: "100", asset: "EUR" },
    });
    assert.equal(blocked.status, 422, JSON.stringify(blocked.body));
    assert.equal(blocked.body.code, "fraudulent");
    const otherHandler = new ScreeningIndex();
    await otherHandler.refresh(elsewhere);
    assert.deepEqual(otherHandler.versions(), tp.platform.risk.screeningVersions());
  });

  test("GET /v1/risk/lists: version, counts and last load; a refused load changes nothing", async () => {
    const report = await feedElsewhere("v2.txt", "Jan de Vries\nPiet Jansen\n");
    assert.deepEqual([report.version, report.added, report.removed, report.unchanged], [2, 1, 1, 1]);
    await assert.rejects(feedElsewhere("bad.txt", "Jan de Vries\nNL00OPEN0000000001\n"), /bad\.txt, line 2/);
    await platformScreens(2);
    const lists = await admin.get("/v1/risk/lists");
    assert.equal(lists.status, 200);
    const [fraud] = lists.body.lists;
    assert.deepEqual(
      [
        fraud.list,
        fraud.version,
        fraud.entries,
        fraud.added,
        fraud.removed,
        fraud.unchanged,
        fraud.screeningVersion,
      ],
      ["fraud", 2, 2, 1, 1, 1, 2],
    );
    assert.match(fraud.source, /v2\.txt$/);
    assert.ok(Date.now() - Date.parse(fraud.loadedAt) < 60_000);
    const allowed = await alice.post("/v1/transfers", {
      ...{ id: randomUUID(), from: aliceIban, to: bobIban, amount: "100", asset: "EUR" },
    });
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
  });
});
