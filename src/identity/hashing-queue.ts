import { BulkheadRejectedError, bulkhead } from "cockatiel";
import { assert, BusyError } from "../platform/errors.ts";
import type { PasswordHasher } from "./passwords.ts";

export interface HashingQueueOptions {
  /** Hashes and verifications running at once. */
  readonly concurrencyMax: number;
  /** Calls waiting for a slot; one more is refused with BusyError at once. */
  readonly queuedMax: number;
}

/**
 * Bounds the CPU and memory that password hashing can take, whatever the request pattern: argon2id
 * costs ~6 ms of CPU and 19 MiB per call, and the library queues on the libuv pool without limit
 * (where it would also starve file and DNS work). Every `hash` and `verify` (registration, login,
 * bootstrap) goes through one cockatiel bulkhead: at most `concurrencyMax` run, at most `queuedMax`
 * wait, the rest fail fast with BusyError (HTTP 503 `busy`, Retry-After) instead of piling up.
 */
export function createHashingQueue(inner: PasswordHasher, options: HashingQueueOptions): PasswordHasher {
  assert(Number.isSafeInteger(options.concurrencyMax) && options.concurrencyMax > 0, "concurrencyMax > 0");
  assert(Number.isSafeInteger(options.queuedMax) && options.queuedMax >= 0, "queuedMax ≥ 0");
  const slots = bulkhead(options.concurrencyMax, options.queuedMax);

  async function run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await slots.execute(work);
    } catch (error) {
      if (error instanceof BulkheadRejectedError) throw new BusyError("password hashing", { cause: error });
      throw error;
    }
  }

  return {
    hash: (password) => run(() => inner.hash(password)),
    verify: (storedHash, password) => run(() => inner.verify(storedHash, password)),
  };
}
