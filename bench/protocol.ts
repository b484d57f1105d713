/** Messages from bench/platform-child.ts to bench/run.ts. Tuples keep the IPC traffic small. */

/** [commandId, receivedAtMs (epoch, sub-ms), issuedAtMs, decidedAtMs, failure reason or ""]. */
export type OutcomeSample = [string, number, number, number, string];

/** [committedAtMs, records, applied, oldest record appended at (ms)]. */
export type BatchSample = [number, number, number, number];

export type ChildMessage =
  | { readonly type: "ready"; readonly url: string; readonly pid: number }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "outcomes"; readonly items: OutcomeSample[] }
  | { readonly type: "batches"; readonly items: BatchSample[] };
