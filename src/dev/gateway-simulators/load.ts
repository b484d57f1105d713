/**
 * Bounded loopback load against one gateway simulator: how many `POST /payments` per second it
 * sustains with zero latency and no faults (each request a new payment, so every one is validated,
 * stored and captured).
 *
 *   node src/payments/simulators/load.ts [--duration-ms 5000] [--requests-max 200000]
 *                                        [--concurrency 64] [--url http://127.0.0.1:PORT]
 *
 * Without --url it starts the simulator in a child process (its own CPU, as in production) through
 * cli.ts with a zero-latency profile on a free 127.0.0.1 port, and stops it at the end. The run ends
 * after --duration-ms or --requests-max requests, whichever comes first.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { GatewayProfileInput } from "./profile.ts";

const benchProfile: GatewayProfileInput = {
  name: "bench",
  kind: "card_acquirer",
  regions: ["EU"],
  currencies: ["EUR"],
  methods: ["card"],
};

async function startChildSimulator(): Promise<{ url: string; child: ChildProcess }> {
  const config = join(tmpdir(), `ledgerflow-sim-load-${process.pid}.json`);
  await writeFile(config, JSON.stringify([benchProfile]));
  const cli = join(import.meta.dirname, "cli.ts");
  const child = spawn(
    process.execPath,
    [cli, "--config", config, "--port-base", "0", "--json", "--seed", "1"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout ?? process.stdin }), "line")) as [string];
  const started = JSON.parse(line) as { gateways: { url: string }[] };
  const url = started.gateways[0]?.url;
  if (url === undefined) throw new Error("the simulator CLI printed no gateway");
  return { url, child };
}

function post(agent: Agent, url: URL, key: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: "/payments",
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "idempotency-key": key,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** CPU time (user + system) a local process has used, from /proc; undefined where there is no /proc. */
async function cpuMsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "duration-ms": { type: "string", default: "5000" },
      "requests-max": { type: "string", default: "200000" },
      concurrency: { type: "string", default: "64" },
      url: { type: "string" },
    },
  });
  const durationMs = Math.min(60_000, Number(values["duration-ms"]));
  const requestsMax = Math.min(2_000_000, Number(values["requests-max"]));
  const concurrency = Math.min(1_024, Number(values.concurrency));
  const target =
    values.url === undefined ? await startChildSimulator() : { url: values.url, child: undefined };
  const url = new URL(target.url);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost")
    throw new Error("load targets loopback only");

  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs = new Float64Array(requestsMax);
  const statuses = new Map<number, number>();
  let issued = 0;
  let completed = 0;
  const serverCpuBeforeMs = await cpuMsOf(target.child?.pid);
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;

  const worker = async (): Promise<void> => {
    while (issued < requestsMax && performance.now() < deadline) {
      const n = issued++;
      const body = `{"paymentId":"load-${n}","amount":"1000","currency":"EUR","direction":"payin"}`;
      const t0 = performance.now();
      const status = await post(agent, url, `load-key-${n}`, body);
      latenciesMs[completed++] = performance.now() - t0;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  let serverCpuMs: number | undefined;
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    const serverCpuAfterMs = await cpuMsOf(target.child?.pid);
    if (serverCpuBeforeMs !== undefined && serverCpuAfterMs !== undefined) {
      serverCpuMs = serverCpuAfterMs - serverCpuBeforeMs;
    }
  } finally {
    agent.destroy();
    target.child?.kill("SIGTERM");
  }
  const elapsedMs = performance.now() - startedAt;
  const sorted = latenciesMs.subarray(0, completed).sort();
  const report = {
    requests: completed,
    elapsedMs: Math.round(elapsedMs),
    requestsPerSecond: Math.round((completed * 1000) / elapsedMs),
    latencyMs: { p50: +percentile(sorted, 0.5).toFixed(2), p99: +percentile(sorted, 0.99).toFixed(2) },
    statuses: Object.fromEntries(statuses),
    concurrency,
    // Client and server share the host: the server's own CPU use tells what one core would sustain.
    ...(serverCpuMs === undefined
      ? {}
      : {
          serverCpuMs,
          serverCpuShare: +(serverCpuMs / elapsedMs).toFixed(2),
          requestsPerServerCpuSecond: Math.round((completed * 1000) / serverCpuMs),
        }),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (target.child !== undefined) await once(target.child, "exit");
}

await main();
