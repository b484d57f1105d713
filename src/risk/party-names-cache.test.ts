import assert from "node:assert/strict";
import { test } from "node:test";
import { cachedPartyNames, type PartyNameCacheLimits, type PartyNameSource } from "./party-names-cache.ts";

/** Identity's profiles as the port sees them, in memory: names, change times, and the asks counted. */
function profiles(nowMs: () => number) {
  const names = new Map<string, string>();
  const changedAtMs = new Map<string, number>();
  const asked: string[][] = [];
  let pollsFail = false;
  const source: PartyNameSource = {
    async namesOf(userIds) {
      asked.push([...userIds]);
      return new Map(userIds.flatMap((id) => (names.has(id) ? [[id, names.get(id) ?? ""] as const] : [])));
    },
    async changedSince(sinceMs, limit) {
      if (pollsFail) throw new Error("identity unreachable");
      return [...changedAtMs]
        .filter(([, atMs]) => atMs >= sinceMs)
        .sort((a, b) => a[1] - b[1])
        .slice(0, limit)
        .map(([userId, atMs]) => ({ userId, atMs }));
    },
  };
  return {
    source,
    asked,
    set(userId: string, name: string, atMs = nowMs()) {
      names.set(userId, name);
      changedAtMs.set(userId, atMs);
    },
    failPolls: (fail: boolean) => {
      pollsFail = fail;
    },
  };
}

const limits: PartyNameCacheLimits = {
  ttlMs: 60_000,
  entriesMax: 3,
  pollIntervalMs: 1_000,
  overlapMs: 5_000,
  changesPerPollMax: 100,
};

function setup(overrides: Partial<PartyNameCacheLimits> = {}) {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const identity = profiles(clock.now);
  const cache = cachedPartyNames(identity.source, { ...limits, ...overrides }, clock.now);
  return { clock, identity, cache };
}

test("a name asked again is answered from the cache, users without a profile too", async () => {
  const { identity, cache } = setup();
  identity.set("u1", "Hans Muller");
  assert.deepEqual([...(await cache.namesOf(["u1", "u2"]))], [["u1", "Hans Muller"]]);
  assert.deepEqual([...(await cache.namesOf(["u2", "u1"]))], [["u1", "Hans Muller"]]);
  assert.deepEqual(identity.asked, [["u1", "u2"]]);
});

test("a renamed user is asked again after the next poll, not at the end of the TTL", async () => {
  const { clock, identity, cache } = setup();
  identity.set("u1", "Hans Muller");
  await cache.namesOf(["u1"]);
  clock.advance(500);
  identity.set("u1", "Osama Listed");
  await cache.poll();
  assert.equal((await cache.namesOf(["u1"])).get("u1"), "Osama Listed");
  assert.equal(identity.asked.length, 2);
});

test("a change stamped by a lagging clock is still seen, within the overlap", async () => {
  const { clock, identity, cache } = setup();
  identity.set("u2", "Other Person");
  await cache.poll(); // the cursor moves to u2's change
  identity.set("u1", "Hans Muller");
  await cache.namesOf(["u1"]);
  identity.set("u1", "Renamed Late", clock.now() - 4_000); // written by a process 4 s behind
  await cache.poll();
  assert.equal((await cache.namesOf(["u1"])).get("u1"), "Renamed Late");
});

test("a change seen again by later polls does not evict a name fetched well after it", async () => {
  const { clock, identity, cache } = setup();
  identity.set("u1", "Hans Muller");
  await cache.poll();
  clock.advance(limits.overlapMs + 1);
  await cache.namesOf(["u1"]);
  for (let poll = 0; poll < 3; poll++) {
    await cache.poll(); // the look-back still covers u1's change
    clock.advance(limits.pollIntervalMs);
  }
  await cache.namesOf(["u1"]);
  assert.equal(
    identity.asked.length,
    1,
    "asked once: the poll's look-back does not evict it again and again",
  );
});

test("a profile created after its user was cached as nameless is seen", async () => {
  const { clock, identity, cache } = setup();
  assert.equal((await cache.namesOf(["u3"])).size, 0);
  clock.advance(10);
  identity.set("u3", "New Profile");
  await cache.poll();
  assert.equal((await cache.namesOf(["u3"])).get("u3"), "New Profile");
});

test("while polls fail nothing cached is trusted; entries expire by the TTL anyway", async () => {
  const { clock, identity, cache } = setup();
  identity.set("u1", "Hans Muller");
  await cache.namesOf(["u1"]);
  identity.failPolls(true);
  clock.advance(limits.pollIntervalMs * 2 + limits.overlapMs + 1);
  await assert.rejects(cache.poll(), /identity unreachable/);
  await cache.namesOf(["u1"]);
  assert.equal(identity.asked.length, 2, "asked again: the cache is not trusted without polls");
  identity.failPolls(false);
  await cache.poll();
  await cache.namesOf(["u1"]);
  assert.equal(identity.asked.length, 2, "trusted again: the name fetched long after u1's change stays");
  clock.advance(limits.ttlMs);
  await cache.poll();
  await cache.namesOf(["u1"]);
  assert.equal(identity.asked.length, 3, "older than the TTL: asked again");
});

test("at most entriesMax users are kept, the least recently used leaving first", async () => {
  const { identity, cache } = setup();
  await cache.namesOf(["a", "b", "c"]);
  await cache.namesOf(["a"]); // a is now the most recent
  await cache.namesOf(["d"]); // b leaves
  assert.equal(cache.size(), 3);
  identity.asked.length = 0;
  await cache.namesOf(["a", "c", "d"]);
  assert.deepEqual(identity.asked, []);
  await cache.namesOf(["b"]);
  assert.deepEqual(identity.asked, [["b"]]);
});

test("more changes than a poll reads drops the whole cache", async () => {
  const { clock, identity, cache } = setup({ changesPerPollMax: 2 });
  await cache.namesOf(["a", "b"]);
  clock.advance(10);
  for (const userId of ["x", "y", "z"]) identity.set(userId, `Name ${userId}`);
  await cache.poll();
  assert.equal(cache.size(), 0);
});
