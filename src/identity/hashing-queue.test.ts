import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BusyError } from "../platform/errors.ts";
import { createHashingQueue } from "./hashing-queue.ts";
import type { PasswordHasher } from "./passwords.ts";

/** A hasher whose calls finish only when the test says so, recording how many run at once. */
function gatedHasher() {
  const pending: (() => void)[] = [];
  let running = 0;
  let runningMax = 0;
  let started = 0;
  const gate = async <T>(value: T): Promise<T> => {
    running += 1;
    started += 1;
    runningMax = Math.max(runningMax, running);
    await new Promise<void>((resolve) => pending.push(resolve));
    running -= 1;
    return value;
  };
  const hasher: PasswordHasher = {
    hash: (password) => gate(`hash:${password}`),
    verify: (storedHash, password) => gate(storedHash === `hash:${password}`),
  };
  return {
    hasher,
    stats: () => ({ running, runningMax, started }),
    /** Lets the oldest running call finish. */
    finishOne: () => pending.shift()?.(),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("password hashing queue", () => {
  test("never runs more than concurrencyMax at once; queued calls run as slots free", async () => {
    const inner = gatedHasher();
    const queue = createHashingQueue(inner.hasher, { concurrencyMax: 2, queuedMax: 10 });
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0 ? queue.hash(`p${i}`) : queue.verify(`hash:p${i}`, `p${i}`),
    );
    await settle();
    assert.deepEqual(inner.stats(), { running: 2, runningMax: 2, started: 2 });
    for (let done = 0; done < 12; done += 1) {
      inner.finishOne();
      await settle();
      assert.ok(inner.stats().running <= 2);
    }
    const results = await Promise.all(calls);
    assert.equal(results[0], "hash:p0");
    assert.equal(results[1], true);
    assert.equal(inner.stats().runningMax, 2);
    assert.equal(inner.stats().started, 12);
  });

  test("past concurrencyMax + queuedMax calls are refused at once with BusyError, never run", async () => {
    const inner = gatedHasher();
    const queue = createHashingQueue(inner.hasher, { concurrencyMax: 2, queuedMax: 3 });
    const accepted = Array.from({ length: 5 }, (_, i) => queue.hash(`p${i}`));
    const refused = Array.from({ length: 4 }, (_, i) =>
      i % 2 === 0 ? queue.hash(`x${i}`) : queue.verify(undefined, `x${i}`),
    );
    for (const call of refused) await assert.rejects(call, BusyError);
    // A slot freed lets one more wait again.
    inner.finishOne();
    await settle();
    const later = queue.hash("later");
    for (let i = 0; i < 5; i += 1) {
      inner.finishOne();
      await settle();
    }
    assert.equal((await Promise.all(accepted)).length, 5);
    assert.equal(await later, "hash:later");
    assert.equal(inner.stats().started, 6);
    assert.equal(inner.stats().runningMax, 2);
  });

  test("a failing hash frees its slot and its error reaches the caller unchanged", async () => {
    let calls = 0;
    const failing: PasswordHasher = {
      hash: async () => {
        calls += 1;
        throw new Error("argon2 failed");
      },
      verify: async () => true,
    };
    const queue = createHashingQueue(failing, { concurrencyMax: 1, queuedMax: 0 });
    for (let i = 0; i < 3; i += 1) await assert.rejects(queue.hash("p"), /argon2 failed/);
    assert.equal(await queue.verify("h", "p"), true);
    assert.equal(calls, 3);
  });
});
