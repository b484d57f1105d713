import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildSchema,
  type GraphQLError,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { defaultDocumentLimits, documentLimitsRule, parseWithinLimits } from "./limits.ts";
import { typeDefs } from "./schema.ts";

const ledgerSchema = buildSchema(typeDefs);
const treeSchema = buildSchema("type Node { name: String, child: Node } type Query { node: Node }");

function errorsOf(
  query: string,
  schema = treeSchema,
  limits = defaultDocumentLimits,
): readonly GraphQLError[] {
  return validate(schema, parse(query), [...specifiedRules, documentLimitsRule(limits)]);
}

function nested(depth: number): string {
  return `{ node ${"{ child ".repeat(depth - 2)}{ name }${" }".repeat(depth - 2)} }`;
}

test("the standard introspection query passes", () => {
  assert.deepEqual(errorsOf(getIntrospectionQuery(), ledgerSchema), []);
});

test("depth is measured through fragments; one level too deep is refused", () => {
  assert.deepEqual(errorsOf(nested(defaultDocumentLimits.depthMax)), []);
  const tooDeep = errorsOf(nested(defaultDocumentLimits.depthMax + 1));
  assert.equal(tooDeep.length, 1);
  assert.match(tooDeep[0]?.message ?? "", /nests deeper than 8/);
  assert.deepEqual(tooDeep[0]?.extensions, { code: "validation_failed", field: "query" });
  const viaFragments = `{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node {
    child { child { child { child { child { child { child { name } } } } } } } }`;
  assert.equal(errorsOf(viaFragments).length, 1);
});

test("fragments that multiply are cut off quickly", () => {
  const levels = 40;
  const fragments = Array.from(
    { length: levels },
    (_, i) => `fragment F${i} on Node { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : "name"} }`,
  ).join("\n");
  const startedMs = performance.now();
  const errors = errorsOf(`{ node { ...F0 } }\n${fragments}`);
  assert.ok(performance.now() - startedMs < 1_000, "2^40 expansions were not walked");
  assert.ok(errors.some((e) => /more than 1000 selections/.test(e.message)));
});

test("fragment cycles are reported by graphql-js and do not hang the limits rule", () => {
  const errors = errorsOf("{ node { ...A } } fragment A on Node { child { ...A } }");
  assert.ok(errors.some((e) => /Cannot spread fragment "A" within itself/.test(e.message)));
});

test("aliases cannot multiply top-level fields past the limit", () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: node { name }`).join(" ");
  assert.deepEqual(errorsOf(`{ ${fields(16)} }`), []);
  assert.match(errorsOf(`{ ${fields(17)} }`)[0]?.message ?? "", /more than 16 top-level fields/);
});

test("query text beyond the character or token limit is refused before parsing", () => {
  const long = parseWithinLimits(
    `{ node { name } }${" ".repeat(defaultDocumentLimits.queryCharsMax)}`,
    defaultDocumentLimits,
  );
  assert.ok(!("kind" in long));
  assert.deepEqual(long.extensions, { code: "validation_failed", field: "query" });
  const tokens = parseWithinLimits(`{ ${"a ".repeat(5_000)} }`, defaultDocumentLimits);
  assert.ok(!("kind" in tokens));
  assert.match(tokens.message, /tokens/);
  const ok = parseWithinLimits("{ node { name } }", defaultDocumentLimits);
  assert.equal("kind" in ok && ok.kind, "Document");
});
