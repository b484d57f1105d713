import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ConnectionRequest,
  decideAnswer,
  decideRequest,
  pointsFor,
  type RequestFacts,
  statusAt,
} from "./requests.ts";
import { testRules } from "./testing-rules.ts";

const here = { point: { lat: 52.37, lon: 4.89 }, accuracyM: 5, atMs: 0 };
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  requestId: "r1",
  citizenId: "c1",
  citizenRoles: ["customer", "citizen"],
  officerId: "o1",
  officerAvailable: true,
  virtual: false,
  citizenAt: here,
  officerAt: { ...here, point: { lat: 52.3705, lon: 4.89 } },
  cell: "871969",
  recentRequestsCount: 0,
  pendingRequest: false,
  lastPairRewardAtMs: undefined,
  nowMs: 1_000,
  ...overrides,
});

test("a citizen near an available officer requests; the request expires after the TTL", () => {
  const decision = decideRequest(testRules, facts());
  assert.equal(decision.kind, "requested");
  if (decision.kind !== "requested") return;
  assert.deepEqual(decision.request, {
    id: "r1",
    citizenId: "c1",
    officerId: "o1",
    kind: "in_person",
    cell: "871969",
    createdAtMs: 1_000,
    expiresAtMs: 1_000 + testRules.requestTtlMs,
    status: "pending",
  });
  assert.equal(statusAt(decision.request, 1_000 + testRules.requestTtlMs - 1), "pending");
  assert.equal(statusAt(decision.request, 1_000 + testRules.requestTtlMs), "expired");
});

test("each rule of a request refuses with its code", () => {
  const cases: [Partial<RequestFacts>, string][] = [
    [{ citizenRoles: ["customer"] }, "not_citizen"],
    [{ officerId: "c1" }, "own_request"],
    [{ officerAvailable: false }, "officer_unavailable"],
    [{ citizenAt: undefined }, "location_required"],
    [{ officerAt: undefined }, "location_required"],
    [{ officerAt: { ...here, point: { lat: 52.38, lon: 4.89 } } }, "not_near"],
    [{ pendingRequest: true }, "request_pending"],
    [{ recentRequestsCount: 3 }, "too_many_requests"],
    [{ lastPairRewardAtMs: 1_000 - 86_400_000 + 1 }, "pair_rewarded_recently"],
  ];
  for (const [overrides, code] of cases)
    assert.deepEqual(decideRequest(testRules, facts(overrides)), { kind: "rejected", code }, code);
  assert.equal(decideRequest(testRules, facts({ lastPairRewardAtMs: 1_000 - 86_400_000 })).kind, "requested");
});

test("a virtual request needs no proximity when the rule allows it, and earns its own points", () => {
  const far = facts({ virtual: true, citizenAt: undefined, officerAt: undefined });
  const decision = decideRequest(testRules, far);
  assert.equal(decision.kind === "requested" && decision.request.kind, "virtual");
  assert.equal(decision.kind === "requested" && decision.request.cell, "");
  assert.deepEqual(decideRequest({ ...testRules, virtualAllowed: false }, far), {
    kind: "rejected",
    code: "virtual_not_allowed",
  });
  assert.equal(pointsFor(testRules, "virtual"), 3n);
  assert.equal(pointsFor(testRules, "in_person"), 10n);
});

const pending: ConnectionRequest = {
  id: "r1",
  citizenId: "c1",
  officerId: "o1",
  kind: "in_person",
  cell: "871969",
  createdAtMs: 0,
  expiresAtMs: 120_000,
  status: "pending",
};
const accept = {
  officerId: "o1",
  action: "accept",
  connectionId: "k1",
  lastPairRewardAtMs: undefined,
  pointsEach: 10n,
  nowMs: 5_000,
} as const;

test("the officer accepts: a rewarded connection with the request's kind and cell", () => {
  assert.deepEqual(decideAnswer(testRules, pending, accept), {
    kind: "accepted",
    connection: {
      id: "k1",
      requestId: "r1",
      officerId: "o1",
      citizenId: "c1",
      kind: "in_person",
      rewarded: true,
      pointsEach: 10n,
      cell: "871969",
      atMs: 5_000,
    },
  });
  assert.deepEqual(decideAnswer(testRules, pending, { ...accept, action: "decline" }), { kind: "declined" });
});

test("answers that are refused: another officer's, own, expired, answered, rewarded recently", () => {
  const reject = (request: ConnectionRequest | undefined, answer: Partial<typeof accept> | object) =>
    decideAnswer(testRules, request, { ...accept, ...answer });
  assert.deepEqual(reject(undefined, {}), { kind: "rejected", code: "request_not_found" });
  assert.deepEqual(reject(pending, { officerId: "o2" }), { kind: "rejected", code: "request_not_found" });
  assert.deepEqual(reject({ ...pending, citizenId: "o1" }, {}), { kind: "rejected", code: "own_request" });
  assert.deepEqual(reject(pending, { nowMs: 120_000 }), { kind: "rejected", code: "request_expired" });
  // Marked expired (the citizen was told) by a process whose clock ran ahead: expired for everyone.
  for (const action of ["accept", "decline"] as const)
    assert.deepEqual(reject({ ...pending, status: "expired" }, { action }), {
      kind: "rejected",
      code: "request_expired",
    });
  assert.deepEqual(reject({ ...pending, status: "declined" }, {}), {
    kind: "rejected",
    code: "request_not_pending",
  });
  assert.deepEqual(reject(pending, { lastPairRewardAtMs: 0 }), {
    kind: "rejected",
    code: "pair_rewarded_recently",
  });
});

test("a replayed accept names the same connection and makes none; a decline after it is refused", () => {
  const accepted: ConnectionRequest = { ...pending, status: "accepted", connectionId: "k1" };
  assert.deepEqual(decideAnswer(testRules, accepted, { ...accept, nowMs: 999_999 }), {
    kind: "replayed",
    connectionId: "k1",
  });
  assert.deepEqual(decideAnswer(testRules, accepted, { ...accept, action: "decline" }), {
    kind: "rejected",
    code: "request_not_pending",
  });
});
