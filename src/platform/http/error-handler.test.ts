import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BusyError, UnavailableError } from "../errors.ts";
import { toProblem } from "./error-handler.ts";
import { ProblemError } from "./problems.ts";

function validationError(validation: object[]): Error {
  return Object.assign(new Error("body/x bad"), {
    code: "FST_ERR_VALIDATION",
    statusCode: 400,
    validation,
    validationContext: "body",
  });
}

describe("toProblem", () => {
  test("a ProblemError passes through unchanged", () => {
    const error = new ProblemError("username_taken", { field: "username" });
    assert.equal(toProblem(error), error.problem);
  });

  test("validation issues name the offending field as a slash path", () => {
    const cases: [object, string | undefined][] = [
      [{ instancePath: "/amount", message: "Invalid input" }, "amount"],
      [{ instancePath: "/transfers/3/to", message: "Required" }, "transfers/3/to"],
      [
        { instancePath: "/", params: { keys: ["isAdmin", "x"] }, message: 'Unrecognized key: "isAdmin"' },
        "isAdmin",
      ],
      [{ instancePath: "/meta", params: { keys: ["y"] } }, "meta/y"],
      [{ instancePath: "", params: { additionalProperty: "extra" } }, "extra"],
      [{ instancePath: "", params: { missingProperty: "password" } }, "password"],
      [{ instancePath: "/", message: "expected object" }, undefined],
    ];
    for (const [issue, field] of cases) {
      const result = toProblem(validationError([issue]));
      assert.equal(result.status, 400);
      assert.equal(result.code, "validation_failed");
      assert.equal(result.field, field, JSON.stringify(issue));
    }
  });

  test("body parsing failures map to 413, 415 and 400", () => {
    const fastifyError = (code: string, statusCode: number) =>
      Object.assign(new Error(code), { code, statusCode });
    assert.equal(toProblem(fastifyError("FST_ERR_CTP_BODY_TOO_LARGE", 413)).code, "body_too_large");
    assert.equal(toProblem(fastifyError("FST_ERR_CTP_INVALID_MEDIA_TYPE", 415)).status, 415);
    assert.equal(toProblem(fastifyError("FST_ERR_CTP_INVALID_JSON_BODY", 400)).code, "validation_failed");
    assert.equal(toProblem(fastifyError("FST_ERR_CTP_INVALID_CONTENT_LENGTH", 400)).status, 400);
  });

  test("an unavailable dependency is 503 with a retry hint", () => {
    const result = toProblem(new UnavailableError("PostgreSQL"));
    assert.equal(result.status, 503);
    assert.equal(result.retryAfterS, 1);
    assert.ok(!JSON.stringify(result).includes("PostgreSQL"));
  });

  test("a full queue of this process is 503 busy with a retry hint", () => {
    const result = toProblem(new BusyError("password hashing"));
    assert.equal(result.status, 503);
    assert.equal(result.code, "busy");
    assert.equal(result.retryAfterS, 1);
    assert.ok(!JSON.stringify(result).includes("hashing"));
  });

  test("anything else is a bare 500 that says nothing about the error", () => {
    for (const error of [
      new Error("password=hunter2"),
      new TypeError("x is undefined"),
      "thrown string",
      null,
    ]) {
      const result = toProblem(error);
      assert.equal(result.status, 500);
      assert.equal(result.code, "internal");
      assert.equal(result.detail, undefined);
    }
    const pgError = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
    });
    assert.equal(toProblem(pgError).status, 500);
  });
});

test("a raw driver error from a restarting database is a 503 unavailable, not a 500", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  const shuttingDown = Object.assign(new Error("the database system is shutting down"), { code: "57P03" });
  for (const error of [refused, shuttingDown]) {
    const problem = toProblem(error);
    assert.equal(problem.status, 503);
    assert.equal(problem.code, "unavailable");
  }
  assert.equal(toProblem(new Error("boom")).status, 500);
});
