import { type Clock, type Random, seededRandom } from "../../platform/clock.ts";
import type { CapturesReport } from "./payment-store.ts";
import { completeProfile, type GatewayProfile, type GatewayProfileInput } from "./profile.ts";
import { type CallbackDeliveryOptions, type GatewaySimulator, startGatewaySimulator } from "./server.ts";

export interface GatewayFleetOptions {
  /** Each simulator gets its own stream seeded from this one, in profile order. */
  readonly random: Random;
  readonly clock: Clock;
  /** One secret for every gateway's callbacks; drawn from `random` when absent. */
  readonly callbackSecret?: string;
  readonly host?: string;
  /** Gateway i listens on portBase + i; 0 (default) picks free ports. */
  readonly portBase?: number;
  readonly callbackDelivery?: Partial<CallbackDeliveryOptions>;
}

export interface FleetGateway {
  readonly name: string;
  readonly url: string;
  readonly callbackSecret: string;
  readonly simulator: GatewaySimulator;
  profile(): GatewayProfile;
}

export interface GatewayFleet {
  readonly gateways: readonly FleetGateway[];
  readonly callbackSecret: string;
  stop(): Promise<void>;
}

export async function startGatewayFleet(
  profiles: readonly GatewayProfileInput[],
  options: GatewayFleetOptions,
): Promise<GatewayFleet> {
  const names = profiles.map((p) => p.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new RangeError(`gateway name used twice: ${duplicate}`);
  const callbackSecret = options.callbackSecret ?? Buffer.from(options.random.bytes(32)).toString("hex");
  const seeds = profiles.map(() => Math.floor(options.random.next() * 2 ** 32));
  const started: GatewaySimulator[] = [];
  try {
    for (const [i, profile] of profiles.entries()) {
      started.push(
        await startGatewaySimulator({
          profile,
          random: seededRandom(seeds[i] ?? 0),
          clock: options.clock,
          callbackSecret,
          ...(options.host === undefined ? {} : { host: options.host }),
          port: options.portBase === undefined || options.portBase === 0 ? 0 : options.portBase + i,
          ...(options.callbackDelivery === undefined ? {} : { callbackDelivery: options.callbackDelivery }),
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw error;
  }
  return {
    callbackSecret,
    gateways: started.map((simulator) => ({
      name: simulator.name,
      url: simulator.url,
      callbackSecret,
      simulator,
      profile: () => simulator.profile(),
    })),
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
    },
  };
}

/**
 * The four third-party systems of the seeds, as shipped by `ledgerflow gateways simulate`:
 * a card acquirer, an instant SEPA rail (Iberpay's role), an e-money wallet (momopocket's role) and a
 * custody bank (Inversis's role). Faults are rare but present, so a platform run against the
 * defaults exercises its failover; tests set their own rates.
 */
export function defaultFleet(): GatewayProfile[] {
  const inputs: GatewayProfileInput[] = [
    {
      name: "card-acquirer",
      kind: "card_acquirer",
      regions: ["EU", "US"],
      currencies: ["EUR", "USD"],
      methods: ["card"],
      latency: { distribution: "lognormal", p50Ms: 40, p99Ms: 180 },
      errorRate: 0.002,
      timeoutRate: 0.001,
      timeoutHangMs: 10_000,
      rateLimit: { requestsPerSecond: 2_000, burst: 4_000 },
    },
    {
      name: "sepa-instant",
      kind: "sepa_instant",
      regions: ["EU"],
      currencies: ["EUR"],
      methods: ["sepa_instant", "bank_transfer"],
      latency: { distribution: "lognormal", p50Ms: 15, p99Ms: 60 },
      errorRate: 0.001,
      timeoutRate: 0.0005,
      timeoutHangMs: 10_000,
      rateLimit: { requestsPerSecond: 2_000, burst: 4_000 },
    },
    {
      name: "e-wallet",
      kind: "ewallet",
      regions: ["EU"],
      currencies: ["EUR"],
      methods: ["ewallet"],
      latency: { distribution: "lognormal", p50Ms: 25, p99Ms: 120 },
      errorRate: 0.002,
      timeoutRate: 0.001,
      timeoutHangMs: 10_000,
      pendingRate: 0.05,
      completionLatency: { distribution: "lognormal", p50Ms: 200, p99Ms: 1_000 },
      rateLimit: { requestsPerSecond: 1_000, burst: 2_000 },
    },
    {
      name: "custody-bank",
      kind: "custody_bank",
      regions: ["EU"],
      currencies: ["EUR", "USD"],
      methods: ["bank_transfer", "custody"],
      latency: { distribution: "lognormal", p50Ms: 80, p99Ms: 400 },
      errorRate: 0.001,
      timeoutRate: 0.001,
      timeoutHangMs: 10_000,
      pendingRate: 0.2,
      completionLatency: { distribution: "lognormal", p50Ms: 500, p99Ms: 3_000 },
      rateLimit: { requestsPerSecond: 500, burst: 1_000 },
    },
  ];
  return inputs.map((input) => {
    const result = completeProfile(input);
    if (!result.ok) throw new RangeError(`default profile ${input.name}: ${result.field}: ${result.detail}`);
    return result.profile;
  });
}

export interface FleetCaptures {
  readonly total: number;
  /** Every captured paymentId with how often and where. */
  readonly byPaymentId: ReadonlyMap<string, { count: number; gateways: string[] }>;
  /** paymentIds captured more than once, on one gateway or across several. */
  readonly doubleCaptured: readonly string[];
}

/** Reads every gateway's own record over HTTP, as an external auditor would, and merges them. */
export async function fetchFleetCaptures(
  gateways: readonly { readonly url: string }[],
): Promise<FleetCaptures> {
  const reports = await Promise.all(
    gateways.map(async (gateway) => {
      const response = await fetch(`${gateway.url}/admin/captures`);
      if (!response.ok) throw new Error(`GET ${gateway.url}/admin/captures answered ${response.status}`);
      return (await response.json()) as CapturesReport;
    }),
  );
  const byPaymentId = new Map<string, { count: number; gateways: string[] }>();
  let total = 0;
  for (const report of reports) {
    total += report.total;
    for (const [paymentId, count] of Object.entries(report.countsByPaymentId)) {
      const entry = byPaymentId.get(paymentId) ?? { count: 0, gateways: [] };
      entry.count += count;
      entry.gateways.push(report.gateway);
      byPaymentId.set(paymentId, entry);
    }
  }
  const doubleCaptured = [...byPaymentId].filter(([, e]) => e.count > 1).map(([paymentId]) => paymentId);
  return { total, byPaymentId, doubleCaptured };
}
