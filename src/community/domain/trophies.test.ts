import assert from "node:assert/strict";
import { test } from "node:test";
import { testRules } from "./testing-rules.ts";
import { epochDay, newTrophies, streakDays, trophiesEarned } from "./trophies.ts";

const dayMs = 86_400_000;
const now = 100 * dayMs + 5_000;

test("the first connection earns first_connection, once", () => {
  const history = { connectionsCount: 1, cellsCount: 1, days: [epochDay(now)], nowMs: now };
  assert.deepEqual(trophiesEarned(testRules, history), ["first_connection"]);
  assert.deepEqual(newTrophies(testRules, history, new Set(["first_connection"])), []);
});

test("a 7-day streak counts consecutive UTC days ending today", () => {
  const days = [94, 95, 96, 97, 98, 99, 100];
  assert.equal(streakDays(days, now), 7);
  assert.equal(streakDays([93, 95, 96, 97, 98, 99, 100], now), 6);
  assert.equal(streakDays([99], now), 0, "a streak ends on the day of the new connection");
  const history = { connectionsCount: 7, cellsCount: 1, days, nowMs: now };
  assert.deepEqual(newTrophies(testRules, history, new Set(["first_connection"])), ["streak_7_days"]);
});

test("N connections and N different cells, per configured list", () => {
  const history = { connectionsCount: 50, cellsCount: 5, days: [100], nowMs: now };
  assert.deepEqual(newTrophies(testRules, history, new Set(["first_connection", "connections_10"])), [
    "connections_50",
    "cells_5",
  ]);
  assert.deepEqual(
    newTrophies(testRules, { ...history, connectionsCount: 9, cellsCount: 4 }, new Set(["first_connection"])),
    [],
  );
});
