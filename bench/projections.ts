/**
 * Projection lag at the ledger's peak rate: `node bench/projections.ts [--transfers N] [--clients N] [--inflight N]`.
 *
 * Starts the platform (embedded, role all: handler, notifier and both insights projections in one
 * process, as `npm start` runs it), opens and funds one account per client, then submits transfers
 * between random clients through the ledger's command service in batches of 500, `inflight`
 * batches at a time, as fast as the ledger takes them (its batch path: the ledger's peak, see bench-results/latest.md). Meanwhile it
 * samples `ledgerflow_projection_lag_records`' numbers (log end minus the projections' positions)
 * every 100 ms, and reports: the ledger's decided rate, the largest lag of each projection, and
 * how long after the last outcome each projection had caught up. Loopback only; stops by itself.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { Principal } from "../src/platform/http/auth.ts";
import { startTestPlatform } from "../test/support/platform.ts";

const { values } = parseArgs({
  options: {
    transfers: { type: "string", default: "40000" },
    clients: { type: "string", default: "50" },
    inflight: { type: "string", default: "8" },
  },
});
const transfersTotal = Number(values.transfers);
const clientsCount = Number(values.clients);
const batchSize = 500;
/** Batches in flight at once: enough to keep the ledger's handler saturated (its peak). */
const inflight = Number(values.inflight);
const sampleEveryMs = 100;

const tp = await startTestPlatform({ logLevel: "error" });
const { platform } = tp;
const commands = platform.ledger.commands;
try {
  const admin: Principal = { userId: randomUUID(), username: "bench-admin", roles: ["admin"] };
  const clients: { principal: Principal; iban: string }[] = [];
  for (let i = 0; i < clientsCount; i++) {
    const registered = await platform.identity.service.register(
      `bench-${i}-${randomUUID().slice(0, 6)}`,
      "bench password 123",
    );
    if (!registered.ok) throw new Error(`register: ${registered.code}`);
    const principal: Principal = {
      userId: registered.user.id,
      username: registered.user.username,
      roles: ["customer"],
    };
    const opened = await commands.openAccount(principal, { id: randomUUID(), asset: "EUR" }, 10_000);
    if (opened.outcome.status !== "CONFIRMED") throw new Error("account not opened");
    const iban = String(opened.outcome.result?.iban);
    await commands.operation(
      admin,
      { id: randomUUID(), type: "deposit", iban, amount: "1000000000", branch: `Bench ${i % 5}` },
      10_000,
    );
    clients.push({ principal, iban });
  }
  const topic = platform.ledger.codecs.outcomes.topic;
  const endOf = async () => (await platform.log.admin().endOffsets(topic)).reduce((a, b) => a + b, 0n);
  const startEnd = await endOf();
  const maxLag = { interactions: 0n, branches: 0n };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const lag = await platform.insights.lag();
      if (lag.interactions > maxLag.interactions) maxLag.interactions = lag.interactions;
      if (lag.branches > maxLag.branches) maxLag.branches = lag.branches;
      await new Promise((resolve) => setTimeout(resolve, sampleEveryMs));
    }
  })();
  const startedMs = performance.now();
  let submitted = 0;
  const submitBatches = async () => {
    while (submitted < transfersTotal) {
      const from = clients[Math.floor(Math.random() * clients.length)];
      if (!from) continue;
      const size = Math.min(batchSize, transfersTotal - submitted);
      submitted += size;
      const batch = Array.from({ length: size }, () => {
        let to = clients[Math.floor(Math.random() * clients.length)];
        while (to === from) to = clients[Math.floor(Math.random() * clients.length)];
        return { id: randomUUID(), from: from.iban, to: to?.iban ?? "", amount: "1", asset: "EUR" };
      });
      // Waits for the batch's outcomes (up to 10 s): what is offered is what the ledger decides.
      await commands.transferBatch(from.principal, batch, 10_000);
    }
  };
  await Promise.all(Array.from({ length: inflight }, submitBatches));
  const ledgerDoneMs = performance.now();
  const outcomes = (await endOf()) - startEnd;
  const caughtUpMs: Record<string, number> = {};
  while (Object.keys(caughtUpMs).length < 2) {
    const lag = await platform.insights.lag();
    for (const [name, records] of Object.entries(lag))
      if (records === 0n && caughtUpMs[name] === undefined)
        caughtUpMs[name] = performance.now() - ledgerDoneMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  sampling = false;
  await sampler;
  const seconds = (ledgerDoneMs - startedMs) / 1000;
  const report = {
    transfers: submitted,
    outcomes: Number(outcomes),
    ledgerSeconds: Number(seconds.toFixed(2)),
    ledgerDecidedPerSecond: Math.round(submitted / seconds),
    maxLagRecords: { interactions: Number(maxLag.interactions), branches: Number(maxLag.branches) },
    caughtUpAfterLastOutcomeMs: Object.fromEntries(
      Object.entries(caughtUpMs).map(([k, v]) => [k, Math.round(v)]),
    ),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await tp.stop();
}
