/**
 * Payments benchmark (wired by the bench runner as `npm run bench -- --payments`):
 * - orchestration overhead: p50/p99 of a payment routed by the orchestrator (rules, scoring,
 *   breaker, timeout, burst limiter, attempt hooks) minus a direct call to the same gateway;
 * - failover time: extra time a payment takes when its first gateway refuses (503) or times out
 *   (status check included), over a direct call to the gateway that finally takes it;
 * - success rate with 1 of 3 gateways failing 100%, open loop at `ratePerSecond` for `durationS`;
 * - `verify` rate: receipts per second through the offline chain verification.
 * Everything runs on 127.0.0.1 against real simulator servers, bounded in count and time.
 */
import { performance } from "node:perf_hooks";
import { startGatewayFleet } from "../src/dev/gateway-simulators/fleet.ts";
import type { GatewayProfileInput } from "../src/dev/gateway-simulators/profile.ts";
import { createGatewayPayment } from "../src/payments/gateway-client.ts";
import { seedGatewayInputs as fleetGatewayInputs } from "../src/payments/index.ts";
import { type AttemptHooks, createOrchestrator } from "../src/payments/orchestrator.ts";
import { gatewayInput, toGatewayConfig } from "../src/payments/registry.ts";
import { seededRandom, systemClock } from "../src/platform/clock.ts";
import { genesisHash, type StoredBlock, type StoredReceipt } from "../src/tokens/chain.ts";
import { canonicalJson, generateChainKeys, sha256Hex, signText } from "../src/tokens/crypto.ts";
import { merkleRoot } from "../src/tokens/merkle.ts";
import { verifyChain } from "../src/tokens/verify.ts";
import { syntheticReceipt } from "../test/support/token-chain.ts";

export interface PaymentsBenchOptions {
  readonly overheadSamples?: number;
  readonly ratePerSecond?: number;
  readonly durationS?: number;
  readonly receipts?: number;
  readonly blockSize?: number;
  readonly log?: (line: string) => void;
}

export interface PaymentsBenchResult {
  readonly overheadP50Ms: number;
  readonly overheadP99Ms: number;
  readonly directP50Ms: number;
  readonly directP99Ms: number;
  readonly failoverRefusedMs: number;
  readonly failoverTimeoutMs: number;
  readonly loadPayments: number;
  readonly loadSuccessRate: number;
  readonly loadAchievedPerSecond: number;
  readonly verifyReceiptsPerSecond: number;
  readonly verifyAllSignaturesPerSecond: number;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

const gateway = (name: string, extra: Partial<GatewayProfileInput> = {}): GatewayProfileInput => ({
  name,
  kind: "sepa_instant",
  regions: ["EU"],
  currencies: ["EUR"],
  methods: ["sepa_instant"],
  ...extra,
});

const noHooks: AttemptHooks = { onStart: async () => 1, onFinish: async () => {} };
const request = (paymentId: string) =>
  ({ paymentId, amount: 100n, currency: "EUR", direction: "payin", iban: "NL39OPEN0000000001" }) as const;

export async function runPaymentsBench(options: PaymentsBenchOptions = {}): Promise<PaymentsBenchResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const samples = options.overheadSamples ?? 2_000;
  const ratePerSecond = options.ratePerSecond ?? 1_000;
  const durationS = options.durationS ?? 5;
  const fleet = await startGatewayFleet(
    [
      gateway("fast-a"),
      gateway("fast-b"),
      gateway("broken", { errorRate: 1 }),
      gateway("hang", { timeoutRate: 1, timeoutHangMs: 2_000 }),
    ],
    { random: seededRandom(1), clock: systemClock },
  );
  try {
    const configs = fleetGatewayInputs(fleet).map((input) =>
      toGatewayConfig({
        name: input.name,
        config: gatewayInput.parse({ ...input, timeoutMs: 100, rateLimit: null }),
        version: 1,
      }),
    );
    const only = (...names: string[]) => configs.filter((c) => names.includes(c.name));
    const fastA = fleet.gateways[0];
    if (!fastA) throw new Error("no gateway");

    // 1. Overhead: time a routed payment spends outside the gateway's HTTP call (measured around
    // fetch itself), with the direct call's own latency for scale. Sequential, after a warm-up.
    let id = 0;
    const direct: number[] = [];
    const overhead: number[] = [];
    const single = createOrchestrator({
      gateways: () => only("fast-a"),
      clock: systemClock,
      random: seededRandom(2),
      options: { healthCheckIntervalMs: 0 },
    });
    const realFetch = globalThis.fetch;
    let inFetchMs = 0;
    globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
      const t = performance.now();
      try {
        return await realFetch(...args);
      } finally {
        inFetchMs += performance.now() - t;
      }
    };
    try {
      for (let i = 0; i < samples + 200; i++) {
        const t0 = performance.now();
        await createGatewayPayment(fastA.url, request(`d${id}`), `d${id++}`, AbortSignal.timeout(1_000));
        const t1 = performance.now();
        inFetchMs = 0;
        await single.route({ request: request(`r${id}`), excluded: new Set() }, noHooks);
        const t2 = performance.now();
        id++;
        if (i >= 200) {
          direct.push(t1 - t0);
          overhead.push(t2 - t1 - inFetchMs);
        }
      }
    } finally {
      globalThis.fetch = realFetch;
    }
    const result = {
      directP50Ms: percentile(direct, 50),
      directP99Ms: percentile(direct, 99),
      overheadP50Ms: percentile(overhead, 50),
      overheadP99Ms: percentile(overhead, 99),
    };
    log(
      `overhead: p50 ${result.overheadP50Ms.toFixed(3)} ms, p99 ${result.overheadP99Ms.toFixed(3)} ms (direct call p50 ${result.directP50Ms.toFixed(3)} ms, p99 ${result.directP99Ms.toFixed(3)} ms; ${samples} samples)`,
    );

    // 2. Failover time: first pick refuses (500) or hangs past its 100 ms timeout.
    const failover = async (first: string) => {
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        const o = createOrchestrator({
          gateways: () => only(first, "fast-b").map((c) => (c.name === first ? { ...c, weight: 1e9 } : c)),
          clock: systemClock,
          random: seededRandom(i),
          options: {
            healthCheckIntervalMs: 0,
            routing: {
              explorationShare: 0,
              latencyReferenceMs: 200,
              inFlightReference: 50,
              demotionFactor: 0.02,
            },
          },
        });
        const t0 = performance.now();
        const r = await o.route({ request: request(`f${first}${i}`), excluded: new Set() }, noHooks);
        times.push(performance.now() - t0 - result.directP50Ms);
        if (r.kind !== "captured" && r.kind !== "held")
          throw new Error(`failover did not capture: ${r.kind}`);
      }
      return percentile(times, 50);
    };
    const failoverRefusedMs = await failover("broken");
    const failoverTimeoutMs = await failover("hang");
    log(
      `failover: after a refusal ${failoverRefusedMs.toFixed(2)} ms, after a 100 ms timeout + status check ${failoverTimeoutMs.toFixed(2)} ms (p50 over the direct call)`,
    );

    // 3. Open-loop load with 1 of 3 gateways failing every call.
    const loadConfigs = only("fast-a", "fast-b", "broken").map((c) => ({ ...c, timeoutMs: 2_000 }));
    const loaded = createOrchestrator({
      gateways: () => loadConfigs,
      clock: systemClock,
      random: seededRandom(3),
      options: { healthCheckIntervalMs: 0 },
    });
    const total = ratePerSecond * durationS;
    const outcomes: Promise<string>[] = [];
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      outcomes.push(
        loaded.route({ request: request(`l${i}`), excluded: new Set() }, noHooks).then(
          (r) => r.kind,
          (e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    }
    const sentS = (performance.now() - start) / 1000;
    const kinds = await Promise.all(outcomes);
    const ok = kinds.filter((k) => k === "captured").length;
    const byKind: Record<string, number> = {};
    for (const k of kinds) byKind[k] = (byKind[k] ?? 0) + 1;
    const loadSuccessRate = ok / total;
    log(
      `load: ${total} payments at ${(total / sentS).toFixed(0)}/s offered, 1 of 3 gateways failing 100%: ${(loadSuccessRate * 100).toFixed(3)}% succeeded ${JSON.stringify(byKind)}`,
    );

    // 4. Verify rate.
    const { verifyReceiptsPerSecond, verifyAllSignaturesPerSecond } = await benchVerify(
      options.receipts ?? 100_000,
      options.blockSize ?? 1_000,
      log,
    );
    return {
      ...result,
      failoverRefusedMs,
      failoverTimeoutMs,
      loadPayments: total,
      loadSuccessRate,
      loadAchievedPerSecond: total / sentS,
      verifyReceiptsPerSecond,
      verifyAllSignaturesPerSecond,
    };
  } finally {
    await fleet.stop();
  }
}

async function benchVerify(count: number, blockSize: number, log: (line: string) => void) {
  const { keys } = generateChainKeys();
  const receipts: StoredReceipt[] = [];
  const blocks: StoredBlock[] = [];
  let previous = genesisHash;
  const signStart = performance.now();
  for (let b = 0; b * blockSize < count; b++) {
    const inBlock: StoredReceipt[] = [];
    for (let i = b * blockSize; i < Math.min(count, (b + 1) * blockSize); i++) {
      const signed = syntheticReceipt(i, keys, "bench", 1_700_000_000_000 + i);
      const { tokenId } = signed;
      inBlock.push({
        seq: String(i + 1),
        tokenId,
        body: signed.text,
        signature: signed.signature,
        leafHash: signed.leaf,
        blockHeight: b,
        leafIndex: inBlock.length,
      });
    }
    const header = canonicalJson({
      v: 1,
      height: b,
      previousHash: previous,
      merkleRoot: merkleRoot(inBlock.map((r) => Buffer.from(r.leafHash, "hex"))).toString("hex"),
      count: inBlock.length,
      firstSeq: inBlock[0]?.seq,
      lastSeq: inBlock.at(-1)?.seq,
      sealedAtMs: 0,
      keyId: keys.keyId,
    });
    previous = sha256Hex(header);
    blocks.push({ height: b, header, headerHash: previous, signature: signText(header, keys.privateKey) });
    receipts.push(...inBlock);
  }
  log(`verify: ${count} receipts signed in ${((performance.now() - signStart) / 1000).toFixed(1)} s`);
  const byBlock = (height: number) => receipts.slice(height * blockSize, (height + 1) * blockSize);
  const t0 = performance.now();
  const report = await verifyChain(blocks, byBlock, [], keys.publicKey, { signatures: "blocks" });
  const verifyReceiptsPerSecond = count / ((performance.now() - t0) / 1000);
  if (report.problems.length > 0) throw new Error(`bench chain does not verify: ${report.problems[0]}`);
  const subset = Math.min(count, 20_000);
  const t1 = performance.now();
  await verifyChain(blocks.slice(0, Math.ceil(subset / blockSize)), byBlock, [], keys.publicKey, {
    signatures: "all",
  });
  const verifyAllSignaturesPerSecond = subset / ((performance.now() - t1) / 1000);
  log(
    `verify: ${verifyReceiptsPerSecond.toFixed(0)} receipts/s (hashes, Merkle roots, signed headers); ${verifyAllSignaturesPerSecond.toFixed(0)} receipts/s also checking every receipt's own signature`,
  );
  return { verifyReceiptsPerSecond, verifyAllSignaturesPerSecond };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const num = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const receipts = num("--receipts");
  const rate = num("--rate");
  runPaymentsBench({ ...(receipts ? { receipts } : {}), ...(rate ? { ratePerSecond: rate } : {}) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
      process.exit(1);
    },
  );
}
