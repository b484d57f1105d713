import assert from "node:assert/strict";
import { test } from "node:test";
import { buildSchema, execute, type GraphQLError, parse } from "graphql";
import { UnavailableError } from "../../platform/errors.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { toClientError } from "./errors.ts";

const schema = buildSchema(
  "type Query { problem: String, crash: String, down: String, echo(text: String!): String }",
);
const rootValue = {
  problem: () => {
    throw new ProblemError("validation_failed", { field: "amount", detail: "amount must be positive" });
  },
  crash: () => {
    throw new Error("connection string postgres://secret@db leaked");
  },
  down: () => {
    throw new UnavailableError("PostgreSQL");
  },
  echo: ({ text }: { text: string }) => text,
};

async function clientErrors(query: string, variableValues: Record<string, unknown> = {}) {
  const internal: unknown[] = [];
  const result = await execute({ schema, document: parse(query), rootValue, variableValues });
  const errors = (result.errors ?? []).map((e: GraphQLError) =>
    toClientError(e, (cause) => internal.push(cause)).toJSON(),
  );
  return { errors, internal };
}

test("a ProblemError keeps its code, field and detail; the path stays", async () => {
  const { errors, internal } = await clientErrors("{ problem }");
  assert.deepEqual(errors, [
    {
      message: "amount must be positive",
      locations: [{ line: 1, column: 3 }],
      path: ["problem"],
      extensions: { code: "validation_failed", field: "amount" },
    },
  ]);
  assert.deepEqual(internal, []);
});

test("an unexpected error is masked as internal and handed to the logger", async () => {
  const { errors, internal } = await clientErrors("{ crash }");
  assert.equal(errors[0]?.message, "Internal error");
  assert.deepEqual(errors[0]?.extensions, { code: "internal" });
  assert.equal(JSON.stringify(errors).includes("secret"), false);
  assert.equal(internal.length, 1);
  assert.match(String(internal[0]), /secret/);
});

test("an unavailable dependency is unavailable with a retry hint", async () => {
  const { errors } = await clientErrors("{ down }");
  assert.deepEqual(errors[0]?.extensions, { code: "unavailable", retryAfterS: 1 });
});

test("graphql-js input errors are validation_failed naming the variable", async () => {
  const { errors } = await clientErrors("query($text: String!) { echo(text: $text) }", { text: 5 });
  assert.deepEqual(errors[0]?.extensions, { code: "validation_failed", field: "text" });
  const missing = await clientErrors("query($text: String!) { echo(text: $text) }");
  assert.deepEqual(missing.errors[0]?.extensions, { code: "validation_failed", field: "text" });
});

test("plain errors from request parsing become validation_failed", () => {
  const error = toClientError(new Error("Missing query"), () => assert.fail("not internal"));
  assert.deepEqual(error.toJSON(), { message: "Missing query", extensions: { code: "validation_failed" } });
});
