/**
 * `ledgerflow community simulate` against a started platform, over HTTP and WebSocket only: a small
 * run connects officers and citizens, mints points on the ledger, and meets no unexpected errors. A
 * second run reuses the users (no registration) and stops early on its abort signal.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import { ConfigError } from "../../platform/config.ts";
import { simulationPassword } from "./participants.ts";
import { parseSimulationArgs } from "./settings.ts";
import { runCommunitySimulation } from "./simulate.ts";
import { liveLineColumnsMax } from "./tally.ts";

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform();
});
after(() => platform?.stop());

function sink(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join("") };
}

/** About 67 by 61 metres (90 m across): everyone is near everyone (threshold 100 m), so no request is virtual. */
const smallSquare = "52.3700,4.8900,52.3706,4.8909";

test("3 officers and 6 citizens for 5 s connect; both sides earn PTS on the ledger; no unexpected errors", async () => {
  const out = sink();
  const lines: string[] = [];
  const report = await runCommunitySimulation(
    [
      ...["--url", platform.url, "--officers", "3", "--citizens", "6", "--duration", "5", "--seed", "16"],
      ...["--bbox", smallSquare, "--interval", "0.5", "--request-share", "0.8", "--accept-share", "0.8"],
      ...["--admin-password", testAdmin.password, "--json"],
    ],
    { stdout: out.stream, progress: { update: (line) => lines.push(line), done: () => {} } },
  );
  assert.ok(report);
  assert.equal(report.registered, 9);
  assert.ok(report.locations >= 9 * 5, `locations: ${report.locations}`);
  assert.ok(report.connections >= 1, JSON.stringify(report));
  assert.ok(report.accepted + report.declined <= report.requests, "each answer answers a request");
  assert.equal(BigInt(report.pointsMinted), BigInt(report.connections) * 2n * 10n, "10 PTS each, in person");
  assert.deepEqual(report.unexpectedErrors, {}, JSON.stringify(report.errors));
  assert.ok(
    report.ledger.checked >= 1 && report.ledger.paid === report.ledger.checked,
    JSON.stringify(report.ledger),
  );
  assert.deepEqual(JSON.parse(out.text()).connections, report.connections);
  // The live line: locations per second, requests, connections, points, errors; ≤ 80 columns.
  assert.ok(
    lines.some((line) => /^\d+s loc \d+\/s req \d+ conn \d+ pts \d+ err \d+/.test(line)),
    lines.join("\n"),
  );
  for (const line of lines) assert.ok(line.length <= liveLineColumnsMax, line);

  // Points are on the ledger, read as a participant over HTTP (independently of the simulator).
  const api = apiClient(platform.url);
  const password = simulationPassword(testAdmin.password, "sim");
  let total = 0n;
  for (const username of [
    "sim-citizen-1",
    "sim-citizen-2",
    "sim-citizen-3",
    "sim-citizen-4",
    "sim-citizen-5",
    "sim-citizen-6",
  ]) {
    const accounts = await api.as(await api.signIn(username, password)).get("/v1/accounts");
    for (const account of accounts.body.items as { asset: string; balance: string }[])
      if (account.asset === "PTS") total += BigInt(account.balance);
  }
  assert.equal(total, BigInt(report.pointsMinted) / 2n, "the citizens hold their half of the points");
});

test("a second run reuses the users, and an abort stops it cleanly before its duration", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 2_000).unref();
  const startedMs = Date.now();
  const report = await runCommunitySimulation(
    [
      ...["--url", platform.url, "--officers", "3", "--citizens", "6", "--duration", "60", "--seed", "17"],
      ...["--bbox", smallSquare, "--interval", "0.5", "--admin-password", testAdmin.password, "--json"],
    ],
    { stdout: sink().stream, progress: { update: () => {}, done: () => {} }, signal: controller.signal },
  );
  assert.ok(report);
  assert.equal(report.registered, 0, "the first run's users are reused");
  assert.ok(Date.now() - startedMs < 30_000, "stopped on the signal, not after 60 s");
  assert.ok(report.elapsedS < 10);
  assert.deepEqual(report.unexpectedErrors, {}, JSON.stringify(report.errors));
});

test("options are bounded; remote targets and a missing admin password are refused", () => {
  const seed = () => 1;
  assert.throws(
    () => parseSimulationArgs(["--url", "http://example.com", "--admin-password", "x"], {}, seed),
    (error: unknown) => error instanceof ConfigError && /loopback/.test(error.message),
  );
  assert.throws(() => parseSimulationArgs([], {}, seed), /admin-password/);
  assert.throws(
    () => parseSimulationArgs(["--officers", "100000", "--admin-password", "x"], {}, seed),
    /--officers/,
  );
  assert.throws(() => parseSimulationArgs(["--bbox", "1,2,3", "--admin-password", "x"], {}, seed), /--bbox/);
  assert.throws(
    () => parseSimulationArgs(["--duration", "0", "--admin-password", "x"], {}, seed),
    /--duration/,
  );
  const settings = parseSimulationArgs([], { LEDGERFLOW_ADMIN_PASSWORD: "from-env" }, seed);
  assert.ok(settings !== "help");
  assert.deepEqual(
    [settings.officers, settings.citizens, settings.durationS, settings.seed],
    [20, 100, 60, 1],
  );
});
