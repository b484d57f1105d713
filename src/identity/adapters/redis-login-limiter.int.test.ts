import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@redis/client";
import Fastify from "fastify";
import pino from "pino";
import { freePort, withRetries } from "../../../test/support/ports.ts";
import { loadConfig } from "../../app/config.ts";
import { type Clock, manualClock, systemIds } from "../../platform/clock.ts";
import { UnavailableError } from "../../platform/errors.ts";
import { installErrorHandler } from "../../platform/http/error-handler.ts";
import { createDeviceTrust } from "../device-trust.ts";
import { describeLoginLimiterSemantics, limiterTestRules } from "../login-limiter.cases.ts";
import type { LimitKey, LimitRules } from "../login-limiter.ts";
import { createConfiguredLoginLimiter } from "../module.ts";
import { createArgon2Hasher } from "../passwords.ts";
import { identityRoutes } from "../routes.ts";
import { createIdentityService } from "../service.ts";
import { createAccessTokens } from "../tokens.ts";
import { createMemoryUserStore } from "./memory.ts";
import { createRedisLoginLimiter, type RedisLoginLimiter } from "./redis-login-limiter.ts";

const redisServerPath = "/usr/bin/redis-server";
const skip = existsSync(redisServerPath)
  ? false
  : `${redisServerPath} is missing (apt-get install redis-server): Redis login limiter tests skipped`;
const serverReadyTimeoutMs = 10_000;
// Short, so that the "Redis down" cases finish quickly; a healthy local Redis answers in well under 1 ms.
const commandTimeoutMs = 300;

interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** A throwaway redis-server on 127.0.0.1 with no persistence, owned and stopped by the test. */
async function startRedisServer(port: number, dir: string): Promise<RedisServer> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(redisServerPath, [...args, "--dir", dir, "--daemonize", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitUntilReady(child);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server not ready after ${serverReadyTimeoutMs} ms:\n${output}`));
    }, serverReadyTimeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

describe("Redis login limiter", { skip }, () => {
  let dir: string;
  let server: RedisServer;
  let admin: ReturnType<typeof createClient>;
  const limiters: RedisLoginLimiter[] = [];
  const servers: RedisServer[] = [];

  const limiter = (
    clock: Clock,
    rules: LimitRules = limiterTestRules,
    url = server.url,
  ): RedisLoginLimiter => {
    const created = createRedisLoginLimiter(clock, {
      url,
      rules,
      commandTimeoutMs,
      reconnectDelayMaxMs: 100,
    });
    limiters.push(created);
    return created;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ledgerflow-redis-"));
    server = await withRetries(3, async () => startRedisServer(await freePort(), dir));
    servers.push(server);
    admin = createClient({ url: server.url });
    await admin.connect();
  });

  after(async () => {
    for (const created of limiters) await created.close();
    if (admin?.isOpen) admin.destroy();
    for (const started of servers) await started.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  describeLoginLimiterSemantics("same behaviour as the memory limiter", async (clock, rules) => {
    await admin.flushAll();
    return limiter(clock, rules);
  });

  const alice: LimitKey = { scope: "userClient", id: "alice" };
  const ip: LimitKey = { scope: "client", id: "2001:db8::1" };

  test("keys are namespaced hashes that expire with their window", async () => {
    await admin.flushAll();
    const everywhere: LimitKey = { scope: "username", id: "alice" };
    await limiter(manualClock()).admit([alice, ip, everywhere]);
    assert.deepEqual((await admin.keys("*")).sort(), [
      "ledgerflow:login:client:2001:db8::1",
      "ledgerflow:login:userClient:alice",
      "ledgerflow:login:username:alice",
    ]);
    const pairTtlMs = await admin.pTTL("ledgerflow:login:userClient:alice");
    assert.ok(pairTtlMs > 55_000 && pairTtlMs <= 60_000, `pair window TTL ${pairTtlMs}`);
    const ipTtlMs = await admin.pTTL("ledgerflow:login:client:2001:db8::1");
    assert.ok(ipTtlMs > 115_000 && ipTtlMs <= 120_000, `ip window TTL ${ipTtlMs}`);
    const usernameTtlMs = await admin.pTTL("ledgerflow:login:username:alice");
    assert.ok(usernameTtlMs > 595_000 && usernameTtlMs <= 600_000, `username TTL ${usernameTtlMs}`);
    assert.equal(await admin.hGet("ledgerflow:login:userClient:alice", "attempts"), "1");
  });

  test("two processes on one Redis share the budget", async () => {
    await admin.flushAll();
    const clock = manualClock();
    const first = limiter(clock);
    const second = limiter(clock);
    assert.equal(await first.admit([alice]), 0);
    assert.equal(await second.admit([alice]), 0);
    await second.forgive([alice]); // a success in one process frees budget for the other
    assert.equal(await first.admit([alice]), 0);
    assert.equal(await second.admit([alice]), 0);
    assert.equal(await first.admit([alice]), 60);
    assert.equal(await second.admit([alice]), 60);
  });

  test("50 concurrent attempts from 5 processes admit exactly attemptsMax", async () => {
    await admin.flushAll();
    const clock = manualClock();
    const processes = Array.from({ length: 5 }, () => limiter(clock));
    const rounds = Array.from({ length: 50 }, (_, i) => processes[i % processes.length]);
    const waits = await Promise.all(rounds.map((p) => p?.admit([alice, ip])));
    assert.equal(waits.filter((waitS) => waitS === 0).length, 3);
    assert.equal(waits.filter((waitS) => waitS === 60).length, 47);
    assert.equal(await admin.hGet("ledgerflow:login:userClient:alice", "attempts"), "3");
    assert.equal(await admin.hGet("ledgerflow:login:client:2001:db8::1", "attempts"), "3");
  });

  test("still works after Redis forgets its script cache (EVALSHA falls back to EVAL)", async () => {
    await admin.flushAll();
    const clock = manualClock();
    const subject = limiter(clock);
    assert.equal(await subject.admit([alice]), 0);
    await admin.scriptFlush();
    assert.equal(await subject.admit([alice]), 0);
    await subject.forgive([alice]);
    await admin.scriptFlush();
    await subject.forgive([alice]);
    assert.equal(await admin.hGet("ledgerflow:login:userClient:alice", "attempts"), "0");
  });

  test("Redis unreachable: admit and forgive throw UnavailableError within the command timeout", async () => {
    const nobodyListens = await freePort();
    const subject = limiter(manualClock(), limiterTestRules, `redis://127.0.0.1:${nobodyListens}`);
    const startedMs = Date.now();
    await assert.rejects(subject.admit([alice, ip]), UnavailableError);
    await assert.rejects(subject.forgive([alice, ip]), UnavailableError);
    const elapsedMs = Date.now() - startedMs;
    assert.ok(elapsedMs < 2 * commandTimeoutMs + 500, `took ${elapsedMs} ms`);
  });

  test("Redis dies: attempts fail with UnavailableError, then work again once it is back", async () => {
    const own = await withRetries(3, async () => startRedisServer(await freePort(), dir));
    servers.push(own);
    const subject = limiter(manualClock(), limiterTestRules, own.url);
    assert.equal(await subject.admit([alice]), 0);
    await own.stop();
    await assert.rejects(subject.admit([alice]), UnavailableError);
    await assert.rejects(subject.admit([alice]), UnavailableError);
    const restarted = await startRedisServer(own.port, dir);
    servers.push(restarted);
    const deadlineMs = Date.now() + 5_000;
    let waitS: number | undefined;
    while (waitS === undefined && Date.now() < deadlineMs) {
      waitS = await subject.admit([alice]).catch(() => sleep(50).then(() => undefined));
    }
    // No persistence: the restarted server starts from an empty budget.
    assert.equal(waitS, 0, "admits again after Redis came back");
  });

  test("the platform shares the limiter through Redis when LEDGERFLOW_REDIS_URL is set", async () => {
    await admin.flushAll();
    const clock = manualClock();
    const logger = pino({ level: "silent" });
    const shared = [1, 2].map(() =>
      createConfiguredLoginLimiter(loadConfig({ LEDGERFLOW_REDIS_URL: server.url }).redis.url, clock, logger),
    );
    const separate = [1, 2].map(() => createConfiguredLoginLimiter(loadConfig({}).redis.url, clock, logger));
    try {
      // Default rule: 5 failures per (username, client) per 15 min. Two attempts in each of two
      // processes and one more use up the shared budget; in memory each process used at most 3.
      for (let i = 0; i < 2; i += 1) {
        for (const subject of [...shared, ...separate]) assert.equal(await subject.admit([alice]), 0);
      }
      assert.equal(await shared[0]?.admit([alice]), 0);
      assert.equal(await separate[0]?.admit([alice]), 0);
      assert.equal(await admin.hGet("ledgerflow:login:userClient:alice", "attempts"), "5");
      for (const subject of shared) assert.equal(await subject.admit([alice]), 900);
      for (const subject of separate) assert.equal(await subject.admit([alice]), 0);
    } finally {
      for (const subject of [...shared, ...separate]) await subject.close();
    }
  });

  test("login over HTTP answers 503 unavailable (never 500, never a token) while Redis is down", async () => {
    const clock = manualClock(Date.now());
    const nobodyListens = await freePort();
    const service = createIdentityService({
      store: createMemoryUserStore(),
      passwords: createArgon2Hasher(),
      tokens: await createAccessTokens({ secret: new Uint8Array(32).fill(7) }, clock),
      limiter: limiter(clock, limiterTestRules, `redis://127.0.0.1:${nobodyListens}`),
      devices: createDeviceTrust({ key: new Uint8Array(32).fill(5), ttlMs: 86_400_000 }, clock, systemIds),
      clock,
      ids: systemIds,
    });
    assert.ok((await service.register("alice", "correct horse battery")).ok);
    const app = Fastify({ logger: false });
    try {
      installErrorHandler(app);
      await app.register(identityRoutes, { service });
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      const response = await fetch(`${base}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: "correct horse battery" }),
      });
      const text = await response.text();
      assert.equal(response.status, 503, text);
      assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
      assert.equal(response.headers.get("retry-after"), "1");
      assert.equal(JSON.parse(text).code, "unavailable");
      assert.ok(!text.includes("accessToken"));
    } finally {
      await app.close();
    }
  });
});
