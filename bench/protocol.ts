/** Messages from bench/platform-child.ts to bench/run.ts. Tuples keep the IPC traffic small. */

/** [commandId, receivedAtMs (epoch, sub-ms), issuedAtMs, decidedAtMs, failure reason or ""]. */
export type OutcomeSample = [string, number, number, number, string];

/** [committedAtMs, records, applied, oldest record appended at (ms), handler transaction ms]. */
export type BatchSample = [number, number, number, number, number];

/** One produce request: [records, sends coalesced, longest queued ms, round trip ms]. */
export type ProduceTuple = [number, number, number, number];

/** One outbox relay publish: [rows, records, delete-previous + select ms, produce ms]. */
export type RelayTuple = [number, number, number, number];

/** Outcome events the relay got acknowledged by the log: [publishedAtMs, command ids]. */
export type RelayedOutcomes = [number, string[]];

export type ChildRole = "all" | "api" | "handler";

export type ChildMessage =
  | { readonly type: "ready"; readonly url: string | undefined; readonly pid: number }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "outcomes"; readonly items: OutcomeSample[] }
  | { readonly type: "batches"; readonly items: BatchSample[] }
  | { readonly type: "produced"; readonly role: ChildRole; readonly items: ProduceTuple[] }
  | { readonly type: "relayed"; readonly items: RelayTuple[]; readonly outcomes: RelayedOutcomes[] };
