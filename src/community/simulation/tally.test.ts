/** The simulation's live line fits an 80-column terminal whatever the numbers and error codes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { liveLine, liveLineColumnsMax, newTally } from "./tally.ts";

test("the live line names the busiest error codes first and stops at 80 columns", () => {
  const tally = newTally();
  Object.assign(tally, { requests: 40, connections: 31, pointsMinted: 620n });
  tally.errors.set("request_pending", 1);
  tally.errors.set("not_near", 2);
  assert.equal(
    liveLine(tally, 12.2, 523),
    "12s loc 523/s req 40 conn 31 pts 620 err 3 not_near 2 request_pending 1",
  );
  Object.assign(tally, { requests: 12_345_678, connections: 9_876_543, pointsMinted: 197_530_860n });
  for (const code of ["pair_rewarded_recently", "officer_unavailable", "too_many_requests", "socket_closed"])
    tally.errors.set(code, 123_456);
  const widest = liveLine(tally, 3_600, 99_999);
  assert.ok(widest.length <= liveLineColumnsMax, `${widest.length}: ${widest}`);
  // The counts always show; an error code only when it fits whole.
  assert.equal(widest, "3600s loc 100k/s req 12.3M conn 9.9M pts 197.5M err 494k");
});
