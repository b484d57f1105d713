import assert from "node:assert/strict";
import { test } from "node:test";
import { apiClient, startTestPlatform, testAdmin } from "../../test/support/platform.ts";

test("the platform watches the command handlers' group and exports its stall flag and lag on /metrics (to admins)", async () => {
  const tp = await startTestPlatform({ handler: { stallAfterMs: 1_000, stallCheckIntervalMs: 100 } });
  try {
    const client = apiClient(tp.url);
    const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
    const deadline = Date.now() + 10_000;
    let metrics = "";
    while (
      !metrics.includes('ledgerflow_log_partition_stalled{group="ledger-handler"') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      metrics = String((await admin.get("/metrics")).body);
    }
    assert.match(
      metrics,
      /ledgerflow_log_partition_stalled\{group="ledger-handler",topic="ledger\.commands",partition="0"\} 0/,
    );
    assert.match(
      metrics,
      /ledgerflow_log_partition_lag_records\{group="ledger-handler",topic="ledger\.commands",partition="0"\} 0/,
    );
  } finally {
    await tp.stop();
  }
});
