import assert from "node:assert/strict";
import { test } from "node:test";
import { notificationOf } from "./notifying-hub.ts";

test("a request that expired unanswered wakes the citizen's closed app; the officer's removal does not", () => {
  const expired = notificationOf({ type: "request_expired", requestId: "r1", officerId: "o1" });
  assert.equal(expired?.tag, "community");
  assert.match(expired?.body ?? "", /did not answer/);
  assert.equal(notificationOf({ type: "request_removed", requestId: "r1", reason: "expired" }), undefined);
  assert.equal(notificationOf({ type: "officer_left", officerId: "o1" }), undefined);
});
