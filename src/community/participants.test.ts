import assert from "node:assert/strict";
import { test } from "node:test";
import { cachedParticipants } from "./participants.ts";
import type { ParticipantView } from "./service.ts";

const view = (userId: string): ParticipantView => ({
  userId,
  displayName: `name of ${userId}`,
  avatarUrl: null,
  agency: null,
  verified: false,
});

test("public views are looked up once per ttl, never for nobody, and the cache stays bounded", async () => {
  let nowMs = 0;
  const asked: string[][] = [];
  const cached = cachedParticipants(
    async (ids) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => id !== "gone").map((id) => [id, view(id)]));
    },
    { ttlMs: 1_000, entriesMax: 2, nowMs: () => nowMs },
  );
  assert.equal((await cached([])).size, 0);
  assert.deepEqual(asked, [], "no officer near: no lookup");
  assert.equal((await cached(["a", "gone"])).get("a")?.displayName, "name of a");
  assert.equal((await cached(["a", "gone"])).size, 1, "an unknown user stays unknown, from the cache");
  assert.deepEqual(asked, [["a", "gone"]]);
  nowMs = 1_000;
  await cached(["a"]);
  assert.deepEqual(asked.at(-1), ["a"], "looked up again after the ttl");
  await cached(["b"]);
  await cached(["c"]); // the cache holds two: the oldest (a) goes
  await cached(["a"]);
  assert.deepEqual(asked.at(-1), ["a"]);
});
