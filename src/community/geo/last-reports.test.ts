/** The embedded last-reports store: the shared contract, then its purging (bounded per call). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeLastReportsContract } from "./last-reports.cases.ts";
import { createMemoryLastReports } from "./last-reports.ts";

describe("memory last reports: the contract", () => {
  describeLastReportsContract(async () => createMemoryLastReports());
});

test("memory last reports: expired reports leave memory, at most purgeBatchMax per call", async () => {
  const nowMs = 1_800_000_000_000;
  const reports = createMemoryLastReports({ purgeBatchMax: 3 });
  for (let i = 0; i < 5; i++)
    await reports.set(`user-${i}`, { point: { lat: 1, lon: 2 }, accuracyM: 5, atMs: nowMs }, nowMs + i);
  await reports.set("user-open", { point: { lat: 1, lon: 2 }, accuracyM: 5, atMs: nowMs }, nowMs + 60_000);
  assert.equal(reports.size, 6);
  assert.equal(await reports.purgeExpired(nowMs + 10), 3);
  assert.equal(await reports.purgeExpired(nowMs + 10), 2);
  assert.equal(reports.size, 1);
});
