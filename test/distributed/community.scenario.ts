/**
 * Hey Blue! across API processes (run by `npm run test:distributed`, after the fault test).
 *
 * Against the real services: two API processes (A and B) in distributed mode on the same Kafka,
 * PostgreSQL and Redis, and one handler (the ledger's commands, for the points). An officer's app is
 * connected to A, a citizen's to B, so every step crosses processes:
 * - a citizen sharing their position on B is told when the officer goes available on A;
 * - the officer renews the window through B; the first window's end (A's timer) leaves the renewed
 *   one open; the citizen's location on B lists them (the Redis GEO index);
 * - the citizen requests on B; the officer's socket on A is told (Redis pub/sub);
 * - the officer accepts on A; the citizen's socket on B is told of the connection (Redis pub/sub);
 * - both hold the connection's PTS on the ledger, minted once (community.events → points minter of
 *   the processors that both APIs run, one consumer group; read back over HTTP);
 * - the officer stops on A; the citizen's next location on B no longer lists them.
 *
 * It owns the topics while it runs (deletes and re-creates them, as the fault test does) and uses a
 * fresh database; every process it starts is stopped, even on failure.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { deleteTopicsAndGroup } from "../../scripts/services/kafka/reset.ts";
import { deadLetterTopic, topics } from "../../src/app/topology.ts";
import {
  type AppSocket,
  openAppSocket,
  type ServerMessage,
} from "../../src/community/simulation/app-socket.ts";
import { freshDatabase, platformEnv, readServicesEnv } from "./environment.ts";
import { type PlatformProcess, runNode, startPlatformProcess } from "./processes.ts";

const projectDir = resolve(import.meta.dirname, "..", "..");
const limits = {
  totalMs: 150_000,
  startMs: 60_000,
  requestTimeoutMs: 10_000,
  pushWaitMs: 10_000,
  pointsWaitMs: 45_000,
  pollIntervalMs: 250,
};
const adminPassword = "community-test-admin-password";
const jwtSecret = "community-test-secret-community-test-secret-0123";
const password = "correct horse battery staple";
const basePort = 18_980 + Math.floor(Math.random() * 400);
const ports = { a: basePort, b: basePort + 1 };
const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s`;
const say = (text: string) => process.stdout.write(`[community ${elapsed()}] ${text}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// A random spot in Amsterdam per run: an earlier run's officer (Redis keeps an open window until it
// ends) is never near this run's citizen.
const here = { lat: 52.3 + Math.random() * 0.1, lon: 4.8 + Math.random() * 0.1, accuracyM: 5 };
/** `metres` north of `here`. */
const north = (metres: number) => ({ ...here, lat: here.lat + metres / 111_195 });

// ---------------------------------------------------------------- HTTP

type Answer = { status: number; body: Record<string, unknown> | undefined };

async function request(
  port: number,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(limits.requestTimeoutMs),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function waitForApi(port: number, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    try {
      if ((await request(port, "GET", "/readyz")).status === 200) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`the API on port ${port} did not become ready`);
}

async function signIn(port: number, username: string, secret: string): Promise<string> {
  const answer = await request(port, "POST", "/v1/auth/login", { body: { username, password: secret } });
  const token = answer.body?.accessToken;
  assert.equal(typeof token, "string", `login of ${username}: ${JSON.stringify(answer)}`);
  return token as string;
}

/** A new user holding `role` (granted by the admin), signed in afresh so the token carries it. */
async function participant(adminToken: string, username: string, role: "officer" | "citizen") {
  const registered = await request(ports.a, "POST", "/v1/auth/register", { body: { username, password } });
  assert.equal(registered.status, 201, `register ${username}: ${JSON.stringify(registered)}`);
  const found = await request(ports.a, "GET", `/v1/admin/users?search=${username}`, { token: adminToken });
  const id = (found.body?.items as { id: string }[] | undefined)?.[0]?.id;
  assert.ok(id, `${username} is listed: ${JSON.stringify(found)}`);
  const granted = await request(ports.a, "PUT", `/v1/admin/users/${id}/roles/${role}`, { token: adminToken });
  assert.equal(granted.status, 200, `grant ${role}: ${JSON.stringify(granted)}`);
  return { id, username, token: await signIn(ports.a, username, password) };
}

interface PointsAccount {
  readonly iban: string;
  readonly balance: bigint;
}

async function pointsAccounts(port: number, token: string): Promise<PointsAccount[]> {
  const answer = await request(port, "GET", "/v1/accounts", { token });
  assert.equal(answer.status, 200, `GET /v1/accounts: ${JSON.stringify(answer)}`);
  const items = (answer.body?.items ?? []) as { iban: string; asset: string; balance: string }[];
  return items.filter((a) => a.asset === "PTS").map((a) => ({ iban: a.iban, balance: BigInt(a.balance) }));
}

/** Polls until the user's PTS reach `expected` (bounded), then checks they were paid by one posting. */
async function assertPaidOnce(port: number, who: { username: string; token: string }, expected: bigint) {
  const deadline = Date.now() + limits.pointsWaitMs;
  let accounts = await pointsAccounts(port, who.token);
  while (accounts.reduce((sum, a) => sum + a.balance, 0n) < expected && Date.now() < deadline) {
    await sleep(limits.pollIntervalMs);
    accounts = await pointsAccounts(port, who.token);
  }
  assert.equal(accounts.length, 1, `${who.username} has one PTS account: ${accounts.length}`);
  const account = accounts[0] as PointsAccount;
  assert.equal(account.balance, expected, `${who.username} holds the connection's points`);
  const history = await request(port, "GET", `/v1/accounts/${account.iban}/transactions`, {
    token: who.token,
  });
  assert.equal(history.status, 200, JSON.stringify(history));
  const items = (history.body?.items ?? []) as { amount: string }[];
  assert.deepEqual(
    items.map((t) => t.amount),
    [expected.toString()],
    `${who.username}'s points were posted exactly once`,
  );
}

// ---------------------------------------------------------------- community sockets

interface App {
  readonly socket: AppSocket;
  readonly pushes: ServerMessage[];
  next(match: (push: ServerMessage) => boolean, what: string): Promise<ServerMessage>;
  send(message: Record<string, unknown>): Promise<Record<string, unknown>>;
}

async function openApp(port: number, token: string): Promise<App> {
  const pushes: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  const socket = await openAppSocket({
    wsUrl: `ws://127.0.0.1:${port}/v1/community/ws`,
    accessToken: token,
    replyWaitMs: limits.requestTimeoutMs,
    onPush: (push) => {
      pushes.push(push);
      for (const wake of waiters) wake();
    },
  });
  return {
    socket,
    pushes,
    async next(match, what) {
      const deadline = Date.now() + limits.pushWaitMs;
      for (;;) {
        const seen = pushes.find(match);
        if (seen) return seen;
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0)
          throw new Error(`no push of ${what} within ${limits.pushWaitMs} ms; got ${JSON.stringify(pushes)}`);
        await new Promise<void>((wake) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(timer);
            wake();
          };
          const timer = setTimeout(done, remainingMs);
          waiters.add(done);
        });
      }
    },
    async send(message) {
      const answer = await socket.send(message);
      assert.ok(answer.ok, `${message.type} refused: ${JSON.stringify(answer)}`);
      return answer.result;
    },
  };
}

const officerIdsOf = (result: Record<string, unknown>) =>
  ((result.officers ?? []) as { officerId: string }[]).map((o) => o.officerId);

// ---------------------------------------------------------------- the test

const allTopicNames = Object.values(topics).flatMap(({ spec }) => [spec.name, deadLetterTopic(spec.name)]);

test("two API processes answer alike: nearby officers (Redis GEO), pushes across processes (Redis pub/sub), points once on the ledger", {
  timeout: limits.totalMs,
}, async () => {
  const services = readServicesEnv(projectDir);
  const brokers = (services.LEDGERFLOW_KAFKA_BROKERS ?? "").split(",");
  assert.ok(services.LEDGERFLOW_REDIS_URL, "LEDGERFLOW_REDIS_URL is in .services/env");
  const runDir = join(projectDir, ".services", "community", new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(runDir, { recursive: true });
  say(`logs of this run: ${runDir}`);
  const databaseUrl = await freshDatabase(services.LEDGERFLOW_DATABASE_URL ?? "", "ledgerflow_community_");
  // Earlier runs' records (another database's connections and commands) must not be replayed here.
  await deleteTopicsAndGroup(brokers, allTopicNames, "ledger-handler", "community-reset");
  await deleteTopicsAndGroup(brokers, [], "community-points", "community-reset");
  const env = platformEnv(services, { databaseUrl, jwtSecret, adminPassword });
  const sync = await runNode("src/main.ts", ["topics", "sync"], {
    cwd: projectDir,
    env,
    logFile: join(runDir, "topics-sync.log"),
  });
  assert.equal(sync, 0, `topics sync exited ${sync} (see ${runDir}/topics-sync.log)`);
  say(`fresh database ${new URL(databaseUrl).pathname.slice(1)}, topics re-created`);

  const processes: PlatformProcess[] = [];
  const apps: App[] = [];
  try {
    const spawnOptions = { projectDir, logDir: runDir, env, restartCrashedAfterMs: 2_000 };
    // A first, alone: it migrates the fresh database; then B and the handler.
    processes.push(startPlatformProcess("api-a", "api", ["--port", String(ports.a)], spawnOptions));
    await waitForApi(ports.a, Date.now() + limits.startMs);
    processes.push(
      startPlatformProcess("api-b", "api", ["--port", String(ports.b)], spawnOptions),
      startPlatformProcess("handler-1", "handler", [], spawnOptions),
    );
    await waitForApi(ports.b, Date.now() + limits.startMs);
    say(`API A on ${ports.a}, API B on ${ports.b} and a handler started`);

    const adminToken = await signIn(ports.a, "admin", adminPassword);
    const suffix = Date.now().toString(36);
    const officer = await participant(adminToken, `officer-${suffix}`, "officer");
    const citizen = await participant(adminToken, `citizen-${suffix}`, "citizen");

    const officerApp = await openApp(ports.a, officer.token);
    const citizenApp = await openApp(ports.b, citizen.token);
    apps.push(officerApp, citizenApp);
    assert.equal(officerApp.socket.userId, officer.id);

    // Redis GEO: the officer's window, opened on A, is what B answers from. The officer's app
    // renews it through B (a reconnect may land on any process): A's end of the first window must
    // not close the renewed one.
    // The citizen shares their position on B first: nobody near yet; told when the officer goes
    // available on A (the citizens' index in Redis, the push through Redis pub/sub).
    assert.deepEqual(officerIdsOf(await citizenApp.send({ type: "location", ...north(60) })), []);
    const firstWindowMs = 3_000;
    await officerApp.send({ type: "available", ...here, windowMs: firstWindowMs });
    const nearbyPush = await citizenApp.next(
      (m) => m.type === "officer_nearby" && (m.officer as { officerId?: string }).officerId === officer.id,
      "officer_nearby on B",
    );
    assert.equal((nearbyPush.officer as { distanceM?: number }).distanceM, 60);
    const officerOnB = await openApp(ports.b, officer.token);
    apps.push(officerOnB);
    await officerOnB.send({ type: "available", ...here });
    await sleep(firstWindowMs + 1_000);
    const closedEarly = officerApp.pushes.filter((m) => m.type === "availability" && m.available === false);
    assert.deepEqual(closedEarly, [], "the renewed window is still open on every process");
    const near = await citizenApp.send({ type: "location", ...north(60) });
    assert.deepEqual(
      officerIdsOf(near),
      [officer.id],
      `B lists the officer available on A: ${JSON.stringify(near)}`,
    );
    const listed = (near.officers as { distanceM: number; profile: { displayName: string } }[])[0];
    assert.equal(listed?.profile.displayName, officer.username);
    assert.ok(Math.abs((listed?.distanceM ?? 0) - 60) <= 1, `distance ${listed?.distanceM} m`);
    say("the citizen on B sees the officer available on A");

    // Redis pub/sub: the request made on B reaches the officer's socket on A, and the acceptance
    // made on A reaches the citizen's socket on B.
    const requested = await citizenApp.send({ type: "request", officerId: officer.id });
    const requestId = String(requested.id);
    const incoming = await officerApp.next(
      (m) => m.type === "request" && (m.request as { id?: string }).id === requestId,
      "the request on A",
    );
    assert.equal((incoming.citizen as { displayName?: string }).displayName, citizen.username);
    const accepted = await officerApp.send({ type: "accept", requestId });
    const connection = accepted.connection as { id: string; pointsEach: string };
    assert.equal(accepted.outcome, "accepted");
    const told = await citizenApp.next(
      (m) => m.type === "connection" && (m.connection as { id?: string }).id === connection.id,
      "the connection on B",
    );
    assert.equal((told.connection as { officerId?: string }).officerId, officer.id);
    say(`request ${requestId} reached A, connection ${connection.id} reached B`);

    // Points: minted once each, whichever API process's minter took the event; read on either API.
    const pointsEach = BigInt(connection.pointsEach);
    assert.ok(pointsEach > 0n, "a proximity connection is rewarded");
    await assertPaidOnce(ports.b, citizen, pointsEach);
    await assertPaidOnce(ports.a, officer, pointsEach);
    say(`both hold ${pointsEach} PTS, posted once each`);

    // The officer stops on A: B no longer lists them.
    const stopped = await officerApp.send({ type: "stop" });
    assert.equal(stopped.available, false);
    const after = await citizenApp.send({ type: "location", ...north(61) });
    assert.deepEqual(officerIdsOf(after), [], `B no longer lists the officer: ${JSON.stringify(after)}`);

    const crashes = processes.filter((p) => p.unexpectedExits.length > 0).map((p) => p.name);
    assert.deepEqual(crashes, [], "no platform process exited on its own");
    say("PASS");
  } finally {
    await Promise.allSettled(apps.map((app) => app.socket.close()));
    await Promise.allSettled(processes.map((p) => p.stop()));
  }
});
