import assert from "node:assert/strict";
import { test } from "node:test";
import { coalesce } from "./coalesce.ts";

test("lookups in the same tick share one loadMany call, in chunks of batchSizeMax", async () => {
  const calls: number[][] = [];
  const lookup = coalesce(async (keys: readonly number[]) => {
    calls.push([...keys]);
    return new Map(keys.filter((k) => k % 2 === 0).map((k) => [k, `v${k}`]));
  }, 3);
  const results = await Promise.all([1, 2, 3, 4, 2].map((k) => lookup(k)));
  assert.deepEqual(results, [undefined, "v2", undefined, "v4", "v2"]);
  assert.deepEqual(calls, [
    [1, 2, 3],
    [4, 2],
  ]);
  assert.equal(await lookup(6), "v6");
  assert.equal(calls.length, 3);
});

test("with a window, keys asked across ticks within it share one load", async () => {
  let loads = 0;
  const lookup = coalesce(
    async (keys: readonly string[]) => {
      loads++;
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    },
    100,
    20,
  );
  const first = lookup("a");
  await new Promise((resolve) => setImmediate(resolve));
  const second = lookup("b");
  assert.deepEqual(await Promise.all([first, second]), ["A", "B"]);
  assert.equal(loads, 1);
});

test("a failed load rejects every waiter of its chunk", async () => {
  const lookup = coalesce(async () => {
    throw new Error("down");
  }, 10);
  const outcomes = await Promise.allSettled([lookup("a"), lookup("b")]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ["rejected", "rejected"],
  );
});

test("with a limit on loads in flight, keys asked meanwhile wait and then share one load", async () => {
  const calls: string[][] = [];
  const gates: (() => void)[] = [];
  const lookup = coalesce(
    async (keys: readonly string[]) => {
      calls.push([...keys]);
      await new Promise<void>((resolve) => gates.push(resolve));
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    },
    100,
    0,
    1,
  );
  const first = lookup("a");
  await new Promise((resolve) => setImmediate(resolve));
  const waiting = ["b", "c", "d"].map((k) => lookup(k));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls, [["a"]], "b, c and d wait while a's load runs");
  gates.shift()?.();
  assert.equal(await first, "A");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls, [["a"], ["b", "c", "d"]]);
  gates.shift()?.();
  assert.deepEqual(await Promise.all(waiting), ["B", "C", "D"]);
});
