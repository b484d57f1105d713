/**
 * Measures the identity hot paths (not a test): argon2id hash/verify latency at the production
 * parameters, and access-token issue/verify throughput. Bounded in count; prints one line each.
 *   node src/identity/bench.ts
 */
import { availableParallelism } from "node:os";
import { systemClock } from "../platform/clock.ts";
import { createArgon2Hasher, owaspArgon2Params } from "./passwords.ts";
import { createAccessTokens } from "./tokens.ts";

const percentile = (sortedMs: readonly number[], p: number): number =>
  sortedMs[Math.min(sortedMs.length - 1, Math.floor(p * sortedMs.length))] ?? Number.NaN;

async function latency(label: string, runs: number, work: () => Promise<unknown>): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `${label}: p50 ${percentile(samples, 0.5).toFixed(1)} ms, p95 ${percentile(samples, 0.95).toFixed(1)} ms (${runs} runs)`,
  );
}

async function throughput(label: string, total: number, concurrency: number, work: () => Promise<unknown>) {
  let started = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started += 1;
        await work();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${label}: ${Math.round(total / seconds).toLocaleString("en")} ops/s (${total} ops, concurrency ${concurrency})`,
  );
}

console.log(
  `node ${process.version}, ${availableParallelism()} CPUs, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "4 (default)"}`,
);
const hasher = createArgon2Hasher(owaspArgon2Params);
const hash = await hasher.hash("correct horse battery staple");
await latency("argon2id hash m=19MiB t=2 p=1", 50, () => hasher.hash("correct horse battery staple"));
await latency("argon2id verify, wrong password", 50, () => hasher.verify(hash, "wrong password 12"));
await latency("argon2id verify, unknown user (dummy hash)", 50, () =>
  hasher.verify(undefined, "wrong password 12"),
);
await throughput("argon2id hash", 200, 8, () => hasher.hash("correct horse battery staple"));

const tokens = await createAccessTokens({ secret: new Uint8Array(32).fill(7) }, systemClock);
const user = { id: "0b8f1f9e-3a51-4c0e-9d55-2f6e3c1d7a10", username: "alice", roles: ["customer"] as const };
const { accessToken } = await tokens.issue(user);
const verifyOk = async () => {
  const result = await tokens.verify(accessToken);
  if (!result.ok) throw new Error(`verify failed: ${result.code}`);
};
await throughput("jwt verify (warm-up)", 20_000, 1, verifyOk);
await throughput("jwt verify", 100_000, 1, verifyOk);
await throughput("jwt verify", 200_000, 64, verifyOk);
await throughput("jwt issue", 50_000, 64, () => tokens.issue(user));
