/** The risk section's rules and review settings: parsed from LEDGERFLOW_RISK_RULES (JSON) and validated at start. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../app/config.ts";

test("rules from the environment are parsed and validated; amounts are minor units", () => {
  const rules = JSON.stringify([
    { kind: "velocity", transfersMax: 5, windowMs: 60_000 },
    { kind: "first_counterparty_amount", amountsOver: { EUR: "100000" } },
  ]);
  const config = loadConfig({ LEDGERFLOW_RISK_RULES: rules, LEDGERFLOW_RISK_REVIEW_TIMEOUT_MS: "3600000" });
  assert.deepEqual(config.risk.rules, [
    { kind: "velocity", transfersMax: 5, windowMs: 60_000 },
    { kind: "first_counterparty_amount", amountsOver: { EUR: 100_000n } },
  ]);
  assert.equal(config.risk.reviewTimeoutMs, 3_600_000);
  assert.deepEqual(loadConfig({}).risk.rules, []);
  assert.equal(loadConfig({}).risk.reviewTimeoutMs, 86_400_000);
});

test("malformed rules stop the start, naming the setting", () => {
  const bad = [
    "not json",
    JSON.stringify([{ kind: "velocity", transfersMax: 0, windowMs: 1000 }]),
    JSON.stringify([{ kind: "first_counterparty_amount", amountsOver: { EUR: "12.50" } }]),
    JSON.stringify([{ kind: "surprise" }]),
  ];
  for (const rules of bad)
    assert.throws(() => loadConfig({ LEDGERFLOW_RISK_RULES: rules }), /risk\.rules|rules/);
});
