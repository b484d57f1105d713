/**
 * Every role started alone, on one real PostgreSQL: what runs in it. Every consumer runs in some
 * role without HTTP (`worker`: receipts, payment processing, projections).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { roles } from "../platform/module.ts";
import { loadConfig } from "./config.ts";
import { startPlatform } from "./platform.ts";

let db: TestDatabase;
let dataDir: string;
before(async () => {
  db = await startTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-roles-"));
});
after(async () => {
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const expected: Record<(typeof roles)[number], readonly string[]> = {
  // The handlers' stall watchdog runs where commands are handled or HTTP is served (kafka-liveness).
  // The gRPC server runs beside HTTP (the test sets grpc.port; unset, it is off).
  api: [
    "http",
    "grpc",
    "identity",
    "ledger.notifier",
    "ledger.stall-watchdog",
    "payments.orchestrator",
    "payments.outbox-relay",
    "payments.processor",
    "payments.sweeper",
    "tokens.tokenizer",
    "tokens.sealer",
    "notifications.live",
    "community.outbox-relay",
    "community.points",
    "community.edge",
    "community.request-expiry",
  ],
  handler: [
    "identity",
    "identity.profiles-projection",
    "risk.screening-index",
    "risk.review-follower",
    "ledger.command-handler",
    "ledger.pending-sweeper",
    "ledger.stall-watchdog",
    "notifications.inbox-projection",
    "insights.interactions-projection",
    "insights.branches-projection",
  ],
  projector: [
    "identity",
    "identity.profiles-projection",
    "risk.review-follower",
    "ledger.pending-sweeper",
    "notifications.inbox-projection",
    "insights.interactions-projection",
    "insights.branches-projection",
  ],
  notifier: ["identity", "ledger.notifier", "notifications.live"],
  worker: [
    "identity",
    "identity.profiles-projection",
    "risk.review-follower",
    "ledger.pending-sweeper",
    "ledger.notifier",
    "payments.orchestrator",
    "payments.outbox-relay",
    "payments.processor",
    "payments.sweeper",
    "tokens.tokenizer",
    "tokens.sealer",
    "notifications.inbox-projection",
    "insights.interactions-projection",
    "insights.branches-projection",
    "notifications.live",
    "community.outbox-relay",
    "community.points",
  ],
  all: [
    "http",
    "grpc",
    "identity",
    "identity.profiles-projection",
    "risk.screening-index",
    "risk.review-follower",
    "ledger.command-handler",
    "ledger.pending-sweeper",
    "ledger.notifier",
    "ledger.stall-watchdog",
    "payments.orchestrator",
    "payments.outbox-relay",
    "payments.processor",
    "payments.sweeper",
    "tokens.tokenizer",
    "tokens.sealer",
    "notifications.inbox-projection",
    "insights.interactions-projection",
    "insights.branches-projection",
    "notifications.live",
    "community.outbox-relay",
    "community.points",
    "community.edge",
    "community.request-expiry",
  ],
};

for (const role of roles)
  test(`role ${role} runs exactly its components`, async () => {
    const config = loadConfig(
      {},
      {
        dataDir,
        logLevel: "warn",
        http: { port: 0 },
        grpc: { port: 0 },
        database: { url: db.url },
        auth: {
          adminPassword: "admin-password-for-tests",
          jwtSecret: "test-secret-test-secret-test-secret-0123456789",
        },
      },
    );
    const platform = await startPlatform({ config, role });
    try {
      assert.deepEqual([...platform.running].sort(), [...expected[role]].sort());
      assert.equal(platform.url !== undefined, role === "api" || role === "all");
      assert.equal(platform.grpcAddress !== undefined, role === "api" || role === "all");
      // No simulators without the dev starter, even though embedded mode asks for them.
      assert.equal(platform.simulators, undefined);
    } finally {
      await platform.stop();
    }
  });

// The social poster (community sharing) runs only when webhooks are configured, where the community
// processors run: none by default above.
for (const [role, runs] of [
  ["worker", true],
  ["handler", false],
] as const)
  test(`with social webhooks, role ${role} ${runs ? "runs" : "does not run"} the social poster`, async () => {
    const config = loadConfig(
      {},
      {
        dataDir,
        logLevel: "warn",
        database: { url: db.url },
        auth: {
          adminPassword: "admin-password-for-tests",
          jwtSecret: "test-secret-test-secret-test-secret-0123456789",
        },
        community: { socialWebhookUrls: ["http://127.0.0.1:9/hook"], socialWebhookSecret: "s".repeat(32) },
      },
    );
    const platform = await startPlatform({ config, role });
    try {
      assert.equal(platform.running.includes("community.social-poster"), runs);
    } finally {
      await platform.stop();
    }
  });

test("simulated gateways default on in embedded mode, off in distributed mode unless asked", () => {
  const secret = {
    LEDGERFLOW_JWT_SECRET: "x".repeat(40),
    LEDGERFLOW_PII_KEY: "A".repeat(43),
    LEDGERFLOW_DATABASE_URL: "postgres://h/db",
  };
  assert.equal(loadConfig({}).payments.simulateGateways, true);
  assert.equal(loadConfig({ LEDGERFLOW_MODE: "distributed", ...secret }).payments.simulateGateways, false);
  const asked = { LEDGERFLOW_MODE: "distributed", LEDGERFLOW_SIMULATE_GATEWAYS: "true", ...secret };
  assert.equal(loadConfig(asked).payments.simulateGateways, true);
});
