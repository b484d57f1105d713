/** How the web app words a payment's gateway attempts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attemptResult } from "../../web/src/lib/payments.ts";

describe("attemptResult", () => {
  it("says how the attempt that held the payment ended once the gateway answered later", () => {
    assert.deepEqual(attemptResult("pending", { status: "SUCCESS", held: true }), {
      words: "Accepted, then succeeded",
      tone: "good",
    });
    assert.deepEqual(attemptResult("unknown", { status: "FAILURE", held: true }), {
      words: "Accepted, then failed",
      tone: "bad",
    });
  });

  it("keeps an attempt's own outcome while the payment is open, or when it did not hold the payment", () => {
    assert.deepEqual(attemptResult("pending", { status: "PENDING", held: true }), {
      words: "Accepted, finishing",
      tone: "warn",
    });
    assert.deepEqual(attemptResult("unavailable", { status: "SUCCESS", held: false }), {
      words: "Unreachable",
      tone: "bad",
    });
    assert.deepEqual(attemptResult("succeeded", { status: "SUCCESS", held: true }), {
      words: "Succeeded",
      tone: "good",
    });
  });
});
