import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { UnavailableError } from "../../platform/errors.ts";
import { ProblemError, problemKinds } from "../../platform/http/problems.ts";
import { decodeStatusDetails, grpcCodeOf, toGrpcStatus } from "./errors.ts";

test("every problem of the registry maps to a gRPC status other than OK and UNKNOWN", () => {
  for (const [code, kind] of Object.entries(problemKinds)) {
    const grpc = grpcCodeOf(kind.status);
    assert.notEqual(grpc, status.OK, code);
    assert.notEqual(grpc, status.UNKNOWN, code);
  }
  assert.equal(grpcCodeOf(400), status.INVALID_ARGUMENT);
  assert.equal(grpcCodeOf(401), status.UNAUTHENTICATED);
  assert.equal(grpcCodeOf(403), status.PERMISSION_DENIED);
  assert.equal(grpcCodeOf(404), status.NOT_FOUND);
  assert.equal(grpcCodeOf(409), status.ALREADY_EXISTS);
  assert.equal(grpcCodeOf(429), status.RESOURCE_EXHAUSTED);
  assert.equal(grpcCodeOf(503), status.UNAVAILABLE);
});

test("a problem keeps its code and field in trailers and in google.rpc.Status details", () => {
  const mapped = toGrpcStatus(
    new ProblemError("validation_failed", { field: "transfers/3/to", detail: "to is not a valid IBAN" }),
    () => assert.fail("not internal"),
  );
  assert.equal(mapped.code, status.INVALID_ARGUMENT);
  assert.equal(mapped.details, "to is not a valid IBAN");
  assert.deepEqual(mapped.metadata.get("ledgerflow-code"), ["validation_failed"]);
  assert.deepEqual(mapped.metadata.get("ledgerflow-field"), ["transfers/3/to"]);
  const details = decodeStatusDetails(mapped.metadata.get("grpc-status-details-bin")[0] as Buffer);
  assert.deepEqual(details, {
    code: status.INVALID_ARGUMENT,
    message: "to is not a valid IBAN",
    errorInfo: {
      reason: "validation_failed",
      domain: "ledgerflow.dev",
      metadata: { field: "transfers/3/to" },
    },
    badRequest: { field_violations: [{ field: "transfers/3/to", description: "to is not a valid IBAN" }] },
  });
});

test("an unexpected error becomes INTERNAL with a fixed message: no internal text, no stack", () => {
  let logged: unknown;
  const cause = new Error("relation ledger_secret does not exist");
  const mapped = toGrpcStatus(cause, (error) => {
    logged = error;
  });
  assert.equal(logged, cause);
  assert.equal(mapped.code, status.INTERNAL);
  assert.equal(mapped.details, "Internal error");
  const sent = JSON.stringify([mapped.details, mapped.metadata.toJSON()]);
  assert.ok(!sent.includes("ledger_secret") && !sent.includes("at "), sent);
});

test("an unavailable dependency is UNAVAILABLE (retry), not INTERNAL", () => {
  const mapped = toGrpcStatus(new UnavailableError("database"), () => assert.fail("not internal"));
  assert.equal(mapped.code, status.UNAVAILABLE);
  assert.deepEqual(mapped.metadata.get("ledgerflow-code"), ["unavailable"]);
});
