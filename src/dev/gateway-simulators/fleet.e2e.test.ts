import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { seededRandom, systemClock } from "../../platform/clock.ts";
import { defaultFleet, fetchFleetCaptures, startGatewayFleet } from "./fleet.ts";
import type { GatewayProfile } from "./profile.ts";

/** The shipped profiles with their rare faults switched off, so assertions are exact. */
function quietDefaultFleet(): GatewayProfile[] {
  return defaultFleet().map((p) => ({
    ...p,
    errorRate: 0,
    timeoutRate: 0,
    pendingRate: 0,
    latency: { distribution: "constant", ms: 1 },
  }));
}

async function pay(url: string, key: string, body: Record<string, unknown>) {
  const response = await fetch(`${url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("the default fleet models the four third-party systems of the seeds", () => {
  const fleet = defaultFleet();
  assert.deepEqual(
    fleet.map((p) => [p.name, p.kind, p.regions, p.currencies]),
    [
      ["card-acquirer", "card_acquirer", ["EU", "US"], ["EUR", "USD"]],
      ["sepa-instant", "sepa_instant", ["EU"], ["EUR"]],
      ["e-wallet", "ewallet", ["EU"], ["EUR"]],
      ["custody-bank", "custody_bank", ["EU"], ["EUR", "USD"]],
    ],
  );
  const p50 = fleet.map((p) => (p.latency.distribution === "lognormal" ? p.latency.p50Ms : -1));
  assert.deepEqual(p50, [40, 15, 25, 80]);
});

test("a fleet starts every gateway on loopback, serves payments, and merges the captures records", async () => {
  const fleet = await startGatewayFleet(quietDefaultFleet(), { random: seededRandom(1), clock: systemClock });
  try {
    assert.equal(fleet.gateways.length, 4);
    assert.equal(new Set(fleet.gateways.map((g) => g.url)).size, 4);
    for (const gateway of fleet.gateways) {
      assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${gateway.url}/health`);
      assert.deepEqual(await health.json(), {
        status: "up",
        gateway: gateway.name,
        kind: gateway.profile().kind,
      });
    }
    const [card, sepa] = fleet.gateways;
    assert.ok(card !== undefined && sepa !== undefined);
    const eur = { amount: "5000", currency: "EUR", direction: "payin" };
    assert.equal((await pay(card.url, "k1", { ...eur, paymentId: "p1" })).status, 201);
    assert.equal((await pay(card.url, "k2", { ...eur, paymentId: "p2", currency: "USD" })).status, 201);
    const noIban = await pay(sepa.url, "k3", { ...eur, paymentId: "p3" });
    assert.equal(noIban.body.code, "iban_required");
    assert.equal(
      (await pay(sepa.url, "k3", { ...eur, paymentId: "p3", iban: "ES9121000418450200051332" })).status,
      201,
    );

    let merged = await fetchFleetCaptures(fleet.gateways);
    assert.equal(merged.total, 3);
    assert.deepEqual(merged.doubleCaptured, []);

    // A client bug that pays p1 again on another gateway is visible across the fleet.
    assert.equal(
      (await pay(sepa.url, "k4", { ...eur, paymentId: "p1", iban: "ES9121000418450200051332" })).status,
      201,
    );
    merged = await fetchFleetCaptures(fleet.gateways);
    assert.deepEqual(merged.doubleCaptured, ["p1"]);
    assert.deepEqual(merged.byPaymentId.get("p1"), { count: 2, gateways: ["card-acquirer", "sepa-instant"] });
  } finally {
    await fleet.stop();
  }
  await assert.rejects(fetch(`${fleet.gateways[0]?.url}/health`), "stopped gateways no longer listen");
});

test("a fleet is reproducible from its seed and refuses duplicate names", async () => {
  const a = await startGatewayFleet(quietDefaultFleet().slice(0, 2), {
    random: seededRandom(3),
    clock: systemClock,
  });
  const b = await startGatewayFleet(quietDefaultFleet().slice(0, 2), {
    random: seededRandom(3),
    clock: systemClock,
  });
  try {
    assert.equal(a.callbackSecret, b.callbackSecret);
    const ids = await Promise.all(
      [a, b].map(async (fleet) => {
        const url = fleet.gateways[0]?.url ?? "";
        return (await pay(url, "k", { paymentId: "p", amount: "1", currency: "EUR", direction: "payin" }))
          .body.gatewayPaymentId;
      }),
    );
    assert.equal(ids[0], ids[1]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  const twice = [quietDefaultFleet()[0], quietDefaultFleet()[0]] as GatewayProfile[];
  await assert.rejects(
    startGatewayFleet(twice, { random: seededRandom(1), clock: systemClock }),
    /used twice/,
  );
});

test("the CLI starts the default fleet, prints its URLs and stops on SIGTERM", async () => {
  const cli = join(import.meta.dirname, "cli.ts");
  const child = spawn(
    process.execPath,
    [cli, "--port-base", "0", "--json", "--seed", "7", "--secret", "s3cret"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const lines = createInterface({ input: child.stdout });
    const [firstLine] = (await once(lines, "line")) as [string];
    const started = JSON.parse(firstLine) as {
      seed: number;
      callbackSecret: string;
      gateways: { url: string }[];
    };
    assert.equal(started.seed, 7);
    assert.equal(started.callbackSecret, "s3cret");
    assert.equal(started.gateways.length, 4);
    for (const gateway of started.gateways) assert.equal((await fetch(`${gateway.url}/health`)).status, 200);
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
});
