import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import { ConfigError } from "../platform/config.ts";
import { parseGeneratorArgs, runGenerator } from "./generate.ts";

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform();
});
after(async () => {
  await platform?.stop();
});

const silent = { update: () => {}, done: () => {} };

function collect(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join("") };
}

test("generates transfers at the rate, each meant-to-fail transfer fails for its reason", async () => {
  const out = collect();
  const lines: string[] = [];
  const report = await runGenerator(
    [
      ...["--url", platform.url, "--rate", "100", "--accounts", "20", "--duration", "2"],
      ...["--fail-share", "0.4", "--admin-password", testAdmin.password, "--json"],
    ],
    { stdout: out.stream, progress: { update: (line) => lines.push(line), done: () => {} } },
  );
  assert.ok(report);
  assert.equal(report.sent, 200);
  assert.equal(report.dropped, 0);
  const outcomes = report.outcomes;
  const meant = report.meantToFail;
  for (const reason of ["insufficient_funds", "invalid_token", "same_account"]) {
    assert.ok((meant[reason] ?? 0) > 0, `some transfers meant to fail with ${reason}`);
    assert.equal(outcomes[`failed:${reason}`], meant[reason], `${reason}: every one failed for that reason`);
  }
  const failedMeant = Object.values(meant).reduce((a, b) => a + b, 0);
  assert.equal(outcomes.confirmed, 200 - failedMeant, "every valid transfer is confirmed");
  assert.ok(report.latencyMs.p99 > 0 && report.latencyMs.p99 < 5_000);
  assert.deepEqual(JSON.parse(out.text()).outcomes, outcomes);
  // The live line: achieved/offered per second, outcomes and latency, within 80 columns.
  assert.ok(
    lines.some((line) => /^\d+s \d+\/100\/s ok \d+ fail \d+ .*p99/.test(line)),
    lines.join("\n"),
  );
  for (const line of lines) assert.ok(line.length <= 80, line);
});

test("refuses remote targets and missing admin credentials", async () => {
  assert.throws(
    () => parseGeneratorArgs(["--url", "http://example.com", "--admin-password", "x"], {}),
    (error: unknown) => error instanceof ConfigError && /loopback/.test(error.message),
  );
  assert.throws(() => parseGeneratorArgs([], {}), ConfigError);
  assert.throws(() => parseGeneratorArgs(["--rate", "1e9", "--admin-password", "x"], {}), /--rate/);
  const settings = parseGeneratorArgs(["--url", "http://example.com", "--allow-remote"], {
    LEDGERFLOW_ADMIN_PASSWORD: "from-env-password",
  });
  assert.ok(settings !== "help");
  assert.equal(settings.adminPassword, "from-env-password");
  assert.equal(settings.ratePerSec, 500);
  const out = collect();
  await runGenerator(["--help", "--admin-password", "x"], { stdout: out.stream, progress: silent });
  assert.match(out.text(), /--rate N/);
});
