import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { seededRandom } from "../platform/clock.ts";
import type { HealthSnapshot } from "./health.ts";
import { defaultRoutingOptions, type GatewayConfig, planRoute } from "./routing.ts";

const gateway = (name: string, extra: Partial<GatewayConfig> = {}): GatewayConfig => ({
  name,
  url: `http://127.0.0.1/${name}`,
  regions: ["EU"],
  currencies: ["EUR"],
  methods: ["sepa_instant"],
  amountMin: 1n,
  amountMax: null,
  weight: 100,
  costBps: 0,
  enabled: true,
  timeoutMs: 1_000,
  rateLimit: null,
  callbackSecret: "x".repeat(16),
  ...extra,
});

const healthy: HealthSnapshot = {
  successRate: undefined,
  latencyEwmaMs: undefined,
  forecastLatencyMs: undefined,
  forecastErrorRate: undefined,
  demoted: false,
  inFlight: 0,
  calls: 0,
};
const fine = () => ({ health: healthy, breakerOpen: false });

test("rules filter region, currency, method, amount, disabled and open breakers, with reasons", () => {
  const gateways = [
    gateway("eu"),
    gateway("us", { regions: ["US"], currencies: ["USD"] }),
    gateway("card", { methods: ["card"] }),
    gateway("small", { amountMax: 100n }),
    gateway("off", { enabled: false }),
    gateway("broken"),
  ];
  const plan = planRoute(
    { amount: 500n, currency: "EUR", region: "EU", method: "sepa_instant" },
    gateways,
    (name) => ({ health: healthy, breakerOpen: name === "broken" }),
    new Set(),
    seededRandom(1),
  );
  assert.deepEqual(
    plan.ordered.map((r) => r.gateway.name),
    ["eu"],
  );
  assert.deepEqual(Object.fromEntries(plan.skipped.map((s) => [s.gateway, s.reason])), {
    us: "currency EUR not supported",
    card: "method sepa_instant not supported",
    small: "amount above limit 100",
    off: "disabled",
    broken: "circuit breaker open",
  });
});

test("property: every planned gateway satisfies the rules; none is excluded", () => {
  const arbGateway = fc.record({
    name: fc.constantFrom("a", "b", "c", "d", "e"),
    regions: fc.subarray(["EU", "US", "UK"], { minLength: 1 }),
    currencies: fc.subarray(["EUR", "USD", "GBP"], { minLength: 1 }),
    amountMax: fc.option(fc.bigInt({ min: 1n, max: 1_000n }), { nil: null }),
    enabled: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(arbGateway, { selector: (g) => g.name, maxLength: 5 }),
      fc.constantFrom("EU", "US", "UK"),
      fc.constantFrom("EUR", "USD", "GBP"),
      fc.bigInt({ min: 1n, max: 2_000n }),
      fc.subarray(["a", "b", "c", "d", "e"]),
      fc.integer(),
      (raw, region, currency, amount, excluded, seed) => {
        const gateways = raw.map((g) => gateway(g.name, g));
        const plan = planRoute(
          { amount, currency, region },
          gateways,
          fine,
          new Set(excluded),
          seededRandom(seed),
        );
        for (const { gateway: g } of plan.ordered) {
          assert.ok(g.enabled && g.regions.includes(region) && g.currencies.includes(currency));
          assert.ok(g.amountMax === null || amount <= g.amountMax);
          assert.ok(!excluded.includes(g.name));
        }
        assert.equal(plan.ordered.length + plan.skipped.length, gateways.length);
      },
    ),
  );
});

test("first picks spread in proportion to score, with a small exploration share", () => {
  const gateways = [gateway("heavy", { weight: 300 }), gateway("light", { weight: 100 })];
  const random = seededRandom(7);
  const counts = { heavy: 0, light: 0, explored: 0 };
  for (let i = 0; i < 20_000; i++) {
    const first = planRoute({ amount: 10n, currency: "EUR" }, gateways, fine, new Set(), random).ordered[0];
    counts[first?.gateway.name as "heavy"]++;
    if (first?.why.startsWith("exploration")) counts.explored++;
  }
  const share = counts.heavy / 20_000;
  // 95% weighted at 3:1 plus 5% uniform → 0.95·0.75 + 0.05·0.5 = 0.7375.
  assert.ok(Math.abs(share - 0.7375) < 0.015, `heavy share ${share}`);
  assert.ok(Math.abs(counts.explored / 20_000 - defaultRoutingOptions.explorationShare) < 0.01);
});

test("load, health, latency, cost and demotion lower the score", () => {
  const plan = (health: Partial<HealthSnapshot>, extra: Partial<GatewayConfig> = {}) =>
    planRoute(
      { amount: 10n, currency: "EUR" },
      [gateway("x", extra), gateway("ref")],
      (name) => ({ health: name === "x" ? { ...healthy, ...health } : healthy, breakerOpen: false }),
      new Set(),
      seededRandom(3),
    ).ordered.find((r) => r.gateway.name === "x")?.score ?? 0;
  const base = plan({});
  assert.ok(plan({ inFlight: 50 }) < base);
  assert.ok(plan({ successRate: 0.5 }) < base);
  assert.ok(plan({ latencyEwmaMs: 400 }) < base);
  assert.ok(plan({}, { costBps: 100 }) < base);
  assert.ok(plan({ demoted: true, demotedBecause: "trend" }) < base / 10);
});
