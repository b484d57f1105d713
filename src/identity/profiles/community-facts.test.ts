import assert from "node:assert/strict";
import { test } from "node:test";
import { PoisonMessageError } from "../../platform/errors.ts";
import { communityFactsOf } from "./community-facts.ts";

const officer = "0b9f4c0e-6a5b-4c39-9d5e-3b7b0d1f2a01";
const citizen = "5e7c8d9a-1b2c-4d3e-8f4a-5b6c7d8e9f02";
/** A record as the flat Avro schema decodes it: every field present, unused ones empty. */
const connection = {
  type: "ConnectionEstablished",
  connectionId: "c-1",
  officerId: officer,
  citizenId: citizen,
  kind: "in_person",
  rewarded: true,
  pointsEach: "25",
  cell: "872a1072bffffff",
  userId: "",
  trophy: "",
  atMs: 1_700_000_000_000n,
};

test("a rewarded connection is one fact per participant, each with the points each earned", () => {
  assert.deepEqual(communityFactsOf(connection), [
    {
      kind: "connection",
      connectionId: "c-1",
      userId: officer,
      rewarded: true,
      points: 25n,
      atMs: 1_700_000_000_000,
    },
    {
      kind: "connection",
      connectionId: "c-1",
      userId: citizen,
      rewarded: true,
      points: 25n,
      atMs: 1_700_000_000_000,
    },
  ]);
});

test("a connection not rewarded counts no points, whatever pointsEach says", () => {
  const facts = communityFactsOf({ ...connection, rewarded: false, pointsEach: "25" });
  assert.deepEqual(
    facts.map((fact) => (fact.kind === "connection" ? fact.points : undefined)),
    [0n, 0n],
  );
});

test("a trophy is one fact for its user; ids are compared in lower case", () => {
  const trophy = {
    ...connection,
    type: "TrophyAwarded",
    officerId: "",
    citizenId: "",
    userId: citizen.toUpperCase(),
    trophy: "first_connection",
  };
  assert.deepEqual(communityFactsOf(trophy), [
    {
      kind: "trophy",
      userId: citizen,
      trophy: "first_connection",
      connectionId: "c-1",
      atMs: 1_700_000_000_000,
    },
  ]);
});

test("a type this version does not know is skipped (the community context may add types first)", () => {
  assert.deepEqual(communityFactsOf({ ...connection, type: "StreakBroken" }), []);
});

test("a known type that breaks the contract is poison, naming the field", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...connection, pointsEach: "12.5" }, /pointsEach/],
    [{ ...connection, pointsEach: "-1" }, /pointsEach/],
    [{ ...connection, pointsEach: "1".repeat(19) }, /pointsEach/],
    [{ ...connection, officerId: "not-a-user" }, /officerId/],
    [{ ...connection, citizenId: officer }, /themselves/],
    [{ ...connection, connectionId: "" }, /connectionId/],
    [{ ...connection, atMs: -1n }, /atMs/],
    [{ ...connection, atMs: 1_700_000_000_000 }, /atMs/],
    [{ ...connection, type: "TrophyAwarded", userId: citizen, trophy: "Bad Code" }, /trophy/],
    [{ ...connection, type: undefined }, /without a type/],
  ];
  for (const [record, message] of cases)
    assert.throws(
      () => communityFactsOf(record),
      (error: unknown) => error instanceof PoisonMessageError && message.test(error.message),
      String(message),
    );
  assert.throws(() => communityFactsOf(null), PoisonMessageError);
});
