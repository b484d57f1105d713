/** The rules decider (pure) and how list verdicts and rule hits combine into block, hold or clear. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ListMatch } from "./match.ts";
import { evaluateRules, factsNeeded, type ScreeningRule, screeningOutcome } from "./rules.ts";

const t = 1_700_000_000_000;
const velocity: ScreeningRule = { kind: "velocity", transfersMax: 3, windowMs: 60_000 };
const firstTime: ScreeningRule = { kind: "first_counterparty_amount", amountsOver: { EUR: 100_000n } };
const subject = { amount: 500n, asset: "EUR", issuedAtMs: t };
const quiet = { senderEarlierIssuedAtMs: [], pairDealtBefore: true };

describe("velocity", () => {
  test("holds the transfer that makes more than transfersMax within the window", () => {
    const three = { ...quiet, senderEarlierIssuedAtMs: [t - 1, t - 10_000, t - 59_999] };
    const hits = evaluateRules([velocity], subject, three);
    assert.deepEqual(
      hits.map((hit) => hit.rule),
      ["velocity"],
    );
    assert.match(hits[0]?.explanation ?? "", /4 transfers .* within 60000 ms \(more than 3\)/);
  });

  test("does not count transfers outside the window, or later than this one", () => {
    const spread = { ...quiet, senderEarlierIssuedAtMs: [t + 5, t - 1, t - 60_000, t - 120_000] };
    assert.deepEqual(evaluateRules([velocity], subject, spread), []);
  });

  test("exactly transfersMax is allowed", () => {
    assert.deepEqual(
      evaluateRules([velocity], subject, { ...quiet, senderEarlierIssuedAtMs: [t - 1, t - 2] }),
      [],
    );
  });
});

describe("amount to a first-time counterparty", () => {
  test("holds a transfer above the asset's threshold to a counterparty never paid before", () => {
    const hits = evaluateRules(
      [firstTime],
      { ...subject, amount: 100_001n },
      { ...quiet, pairDealtBefore: false },
    );
    assert.deepEqual(
      hits.map((hit) => hit.rule),
      ["first_counterparty_amount"],
    );
  });

  test("not at the threshold, not to a known counterparty, not in an asset without a threshold", () => {
    const fresh = { ...quiet, pairDealtBefore: false };
    assert.deepEqual(evaluateRules([firstTime], { ...subject, amount: 100_000n }, fresh), []);
    assert.deepEqual(evaluateRules([firstTime], { ...subject, amount: 10n ** 9n }, quiet), []);
    assert.deepEqual(evaluateRules([firstTime], { ...subject, asset: "USD", amount: 10n ** 9n }, fresh), []);
  });
});

test("facts needed: the longest window, the most transfers, pairs only with a first-time rule", () => {
  const rules: ScreeningRule[] = [
    velocity,
    { kind: "velocity", transfersMax: 10, windowMs: 3_600_000 },
    firstTime,
  ];
  assert.deepEqual(factsNeeded(rules), { windowMs: 3_600_000, transfers: 10, pairs: true });
  assert.deepEqual(factsNeeded([]), { windowMs: 0, transfers: 0, pairs: false });
});

describe("screening outcome", () => {
  const match: ListMatch = {
    ...{
      list: "fraud",
      version: 2,
      kind: "name",
      value: "hans muller",
      display: "MULLER, Hans",
      score: 0.95,
    },
    explanation: "similar",
  };
  const hit = { rule: "velocity" as const, explanation: "fast" };

  test("an exact match blocks, whatever the rules say", () => {
    assert.equal(
      screeningOutcome({ decision: "block", match: { ...match, score: 1 } }, [hit]).decision,
      "block",
    );
  });

  test("a similar name holds; a rule hit alone holds; neither is clear", () => {
    assert.equal(screeningOutcome({ decision: "hold", match }, []).decision, "hold");
    assert.equal(screeningOutcome({ decision: "clear" }, [hit]).decision, "hold");
    assert.equal(screeningOutcome({ decision: "clear" }, []).decision, "clear");
  });
});
