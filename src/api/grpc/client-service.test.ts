import assert from "node:assert/strict";
import { test } from "node:test";
import { ProblemError } from "../../platform/http/problems.ts";
import { withRequestFields } from "./client-service.ts";

async function problemOf(read: () => Promise<unknown>) {
  try {
    await withRequestFields(read);
  } catch (error) {
    assert.ok(error instanceof ProblemError);
    return { code: error.problem.code, field: error.problem.field, detail: error.problem.detail };
  }
  assert.fail("expected a problem");
}

test("the insights API's REST field names become the request's fields, in the field and the detail", async () => {
  const limit = new ProblemError("validation_failed", { field: "limit", detail: "limit must be 1 to 100" });
  assert.deepEqual(await problemOf(() => Promise.reject(limit)), {
    code: "validation_failed",
    field: "page_size",
    detail: "page_size must be 1 to 100",
  });
  const cursor = new ProblemError("validation_failed", {
    field: "cursor",
    detail: "cursor is not one this API gave out",
  });
  assert.equal((await problemOf(() => Promise.reject(cursor))).field, "page_token");
  const id = new ProblemError("not_found", { field: "id", detail: "No such client" });
  assert.deepEqual(await problemOf(() => Promise.reject(id)), {
    code: "not_found",
    field: "client_id",
    detail: "No such client",
  });
});

test("other errors pass through unchanged", async () => {
  const other = new ProblemError("validation_failed", { field: "amount", detail: "amount is bad" });
  await assert.rejects(
    withRequestFields(() => Promise.reject(other)),
    (error) => error === other,
  );
  const crash = new Error("boom");
  await assert.rejects(
    withRequestFields(() => Promise.reject(crash)),
    (error) => error === crash,
  );
  assert.equal(await withRequestFields(async () => 42), 42);
});
