/**
 * Signs receipts on a worker thread: Ed25519 costs ~50–70 µs per signature, which on the main thread
 * would compete with the HTTP edge and the ledger handler for one core. One message per batch.
 */
import type { KeyObject } from "node:crypto";
import { Worker } from "node:worker_threads";
import { InfrastructureError } from "../platform/errors.ts";

export interface ReceiptSigner {
  /** Base64url Ed25519 signatures of `texts`, in order. */
  signMany(texts: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

// Plain JavaScript, evaluated in the worker: it only signs.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { sign } = require("node:crypto");
parentPort.on("message", ({ id, texts }) => {
  try {
    const signatures = texts.map((text) => sign(null, Buffer.from(text), workerData.key).toString("base64url"));
    parentPort.postMessage({ id, signatures });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});
`;

export function startReceiptSigner(privateKey: KeyObject): ReceiptSigner {
  const worker = new Worker(workerSource, { eval: true, workerData: { key: privateKey } });
  worker.unref();
  const pending = new Map<number, { resolve(signatures: string[]): void; reject(error: unknown): void }>();
  let nextId = 0;
  let stopped: InfrastructureError | undefined;
  const failAll = (error: unknown) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on("message", (message: { id: number; signatures?: string[]; error?: string }) => {
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if (message.signatures) request.resolve(message.signatures);
    else request.reject(new InfrastructureError("signing_failed", message.error ?? "signing failed"));
  });
  worker.on("error", failAll);
  worker.on("exit", () => {
    stopped = new InfrastructureError("signing_failed", "the signing worker stopped");
    failAll(stopped);
  });
  return {
    signMany(texts) {
      if (texts.length === 0) return Promise.resolve([]);
      if (stopped) return Promise.reject(stopped);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, texts });
      }).finally(() => {
        if (pending.size === 0) worker.unref();
      }) as Promise<string[]>;
    },
    async close() {
      await worker.terminate();
      stopped ??= new InfrastructureError("signing_failed", "the signing worker stopped");
    },
  };
}
