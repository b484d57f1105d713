import assert from "node:assert/strict";
import { test } from "node:test";
import { applyProfilePatch, completeProfile, type GatewayProfile } from "./profile.ts";

const base = {
  name: "sepa",
  kind: "sepa_instant",
  regions: ["EU"],
  currencies: ["EUR"],
  methods: ["sepa_instant"],
} as const;

function valid(): GatewayProfile {
  const result = completeProfile({
    ...base,
    regions: [...base.regions],
    currencies: [...base.currencies],
    methods: [...base.methods],
  });
  assert.ok(result.ok);
  return result.profile;
}

test("a profile is completed with well-behaved defaults", () => {
  const profile = valid();
  assert.equal(profile.errorRate, 0);
  assert.equal(profile.down, false);
  assert.deepEqual(profile.outages, []);
  assert.equal(profile.rateLimit, null);
});

test("a patch replaces the fields it names and keeps the others", () => {
  const result = applyProfilePatch(valid(), {
    errorRate: 0.25,
    rateLimit: { requestsPerSecond: 5, burst: 2 },
  });
  assert.ok(result.ok);
  assert.equal(result.profile.errorRate, 0.25);
  assert.deepEqual(result.profile.rateLimit, { requestsPerSecond: 5, burst: 2 });
  assert.deepEqual(result.profile.currencies, ["EUR"]);
});

test("bad patches are returned with the offending field", () => {
  const cases: [unknown, string][] = [
    [{ errorRate: 1.5 }, "errorRate"],
    [{ name: "other" }, "name"],
    [{ outages: [{ fromMs: 10, toMs: 5 }] }, "outages/0/toMs"],
    [{ latency: { distribution: "lognormal", p50Ms: 50, p99Ms: 10 } }, "latency/p99Ms"],
    [{ colour: "blue" }, ""],
  ];
  for (const [patch, field] of cases) {
    const result = applyProfilePatch(valid(), patch);
    assert.equal(result.ok, false, JSON.stringify(patch));
    if (!result.ok) assert.equal(result.field, field, JSON.stringify(patch));
  }
});
