import assert from "node:assert/strict";
import { test } from "node:test";
import type { ScreeningRequest } from "../ledger/index.ts";
import { type ListSnapshot, snapshotOf } from "./domain/match.ts";
import type { ScreeningIndex } from "./screening-index.ts";
import { createScreener } from "./screenings.ts";

const request: ScreeningRequest = {
  commandId: "c1",
  kind: "transfer",
  partyRole: "receiver",
  party: { iban: "NL91ABNA0417164300", userId: "8f14e45f-ceea-467f-a0e1-a1b2c3d4e5f6" },
  counterpartyIban: "NL20INGB0001234567",
  actorId: "someone",
  amount: 100n,
  asset: "EUR",
  issuedAtMs: 0,
};

function screenerWith(snapshots: readonly ListSnapshot[]) {
  const asked: string[][] = [];
  const screener = createScreener({
    index: { snapshots: () => snapshots } as unknown as ScreeningIndex,
    log: { find: async () => new Map(), record: async () => {}, latest: async () => [] } as never,
    reviewThreshold: 0.9,
    nowMs: () => 0,
    partyNames: {
      namesOf: async (ids) => {
        asked.push([...ids]);
        return new Map();
      },
    },
  });
  return { screener, asked };
}

test("party names are asked of identity only while a list in force holds names", async () => {
  const ibansOnly = snapshotOf("ibans", 1, [{ kind: "iban", value: "NL02ABNA0123456789", display: "x" }]);
  const { screener, asked } = screenerWith([ibansOnly]);
  assert.equal((await screener.screen([request], {} as never)).size, 0);
  assert.deepEqual(asked, [], "no name list: no names query on the transfer's path");

  const withNames = snapshotOf("names", 1, [{ kind: "name", value: "jane roe", display: "Jane Roe" }]);
  const named = screenerWith([ibansOnly, withNames]);
  await named.screener.screen([request], {} as never);
  assert.deepEqual(named.asked, [[request.party.userId]]);
});
