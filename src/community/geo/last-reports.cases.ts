/** What every LastReports adapter does (run against the memory one and a real Redis). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LastReports } from "./last-reports.ts";

const nowMs = 1_800_000_000_000;
const report = (lat: number, atMs = nowMs) => ({ point: { lat, lon: 4.9 }, accuracyM: 7, atMs });

export function describeLastReportsContract(create: () => Promise<LastReports>): void {
  const using = async (run: (reports: LastReports) => Promise<void>) => {
    const reports = await create();
    try {
      await run(reports);
    } finally {
      await reports.close();
    }
  };

  test("keeps a user's last report until its end, exactly", () =>
    using(async (reports) => {
      await reports.set("user-a", report(52.37), nowMs + 120_000);
      assert.deepEqual(await reports.get("user-a", nowMs + 119_999), report(52.37));
      assert.equal(await reports.get("user-a", nowMs + 120_000), undefined);
      assert.equal(await reports.get("user-never", nowMs), undefined);
    }));

  test("a later report replaces the earlier one, with its own end", () =>
    using(async (reports) => {
      await reports.set("user-b", report(52.37), nowMs + 1_000);
      await reports.set("user-b", report(52.38, nowMs + 500), nowMs + 60_000);
      assert.deepEqual(await reports.get("user-b", nowMs + 30_000), report(52.38, nowMs + 500));
      await reports.purgeExpired(nowMs + 30_000);
      assert.deepEqual(await reports.get("user-b", nowMs + 30_000), report(52.38, nowMs + 500));
    }));
}
