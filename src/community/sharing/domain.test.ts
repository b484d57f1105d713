import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideShare, notAgreed, retryDelayMs, sideOf } from "./domain.ts";

const connection = { officerId: "o", citizenId: "c" };

describe("sharing decider", () => {
  test("only the connection's officer and citizen have a side", () => {
    assert.equal(sideOf(connection, "o"), "officer");
    assert.equal(sideOf(connection, "c"), "citizen");
    assert.equal(sideOf(connection, "someone-else"), undefined);
  });

  test("one agreement waits for the other; the second shares it, once", () => {
    const first = decideShare(notAgreed, { kind: "agree", side: "citizen", nowMs: 10 });
    assert.deepEqual(first, {
      kind: "changed",
      shared: false,
      state: { officerAgreedAtMs: undefined, citizenAgreedAtMs: 10, sharedAtMs: undefined },
    });
    assert.equal(first.kind, "changed");
    const second = decideShare(first.state, { kind: "agree", side: "officer", nowMs: 20 });
    assert.deepEqual(second, {
      kind: "changed",
      shared: true,
      state: { officerAgreedAtMs: 20, citizenAgreedAtMs: 10, sharedAtMs: 20 },
    });
    assert.equal(second.kind, "changed");
    // A replayed agreement (either side) changes nothing and shares nothing again.
    for (const side of ["officer", "citizen"] as const)
      assert.deepEqual(decideShare(second.state, { kind: "agree", side, nowMs: 30 }), {
        kind: "unchanged",
        state: second.state,
      });
  });

  test("a withdrawal before the other agreed undoes the agreement; withdrawing nothing is unchanged", () => {
    const agreed = decideShare(notAgreed, { kind: "agree", side: "officer", nowMs: 10 });
    assert.equal(agreed.kind, "changed");
    const withdrawn = decideShare(agreed.state, { kind: "withdraw", side: "officer", nowMs: 11 });
    assert.deepEqual(withdrawn, { kind: "changed", shared: false, state: notAgreed });
    assert.deepEqual(decideShare(notAgreed, { kind: "withdraw", side: "citizen", nowMs: 12 }), {
      kind: "unchanged",
      state: notAgreed,
    });
    // Withdrawn, the other's agreement alone does not share it.
    const other = decideShare(notAgreed, { kind: "agree", side: "citizen", nowMs: 13 });
    assert.equal(other.kind === "changed" && other.shared, false);
  });

  test("once shared, a withdrawal is refused (it may be posted already)", () => {
    const shared = { officerAgreedAtMs: 1, citizenAgreedAtMs: 2, sharedAtMs: 2 };
    for (const side of ["officer", "citizen"] as const)
      assert.deepEqual(decideShare(shared, { kind: "withdraw", side, nowMs: 3 }), {
        kind: "refused",
        code: "share_final",
      });
  });

  test("retries back off exponentially up to the cap", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempts) => retryDelayMs(attempts, 100, 1_000)),
      [100, 200, 400, 800, 1_000, 1_000],
    );
  });
});
