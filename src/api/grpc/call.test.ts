import assert from "node:assert/strict";
import { test } from "node:test";
import { waitMsOf } from "./call.ts";

const nowMs = 1_000_000;

test("a command call waits what it asks, within the server's limit", () => {
  assert.equal(waitMsOf(500, Infinity, 30_000, nowMs), 500);
  assert.equal(waitMsOf(0, Infinity, 30_000, nowMs), 0);
  assert.equal(waitMsOf(60_000, Infinity, 30_000, nowMs), 30_000);
});

test("without a wait asked, it waits until shortly before the deadline, or the server's limit without one", () => {
  assert.equal(waitMsOf(undefined, Infinity, 30_000, nowMs), 30_000);
  assert.equal(waitMsOf(undefined, nowMs + 2_000, 30_000, nowMs), 1_900);
  assert.equal(waitMsOf(undefined, new Date(nowMs + 2_000), 30_000, nowMs), 1_900);
  assert.equal(waitMsOf(5_000, nowMs + 1_000, 30_000, nowMs), 900);
});

test("a deadline already (nearly) past waits not at all", () => {
  assert.equal(waitMsOf(undefined, nowMs + 50, 30_000, nowMs), 0);
  assert.equal(waitMsOf(undefined, nowMs - 1_000, 30_000, nowMs), 0);
});
