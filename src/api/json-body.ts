/**
 * The JSON body parser of the HTTP edge. Like Fastify's own (secure-json-parse: `__proto__` and
 * `constructor.prototype` keys are refused), plus one rule for money: JSON.parse turns a number
 * literal into a double, so `0.99999999999999999` would arrive as 1, `1e3` as 1000 and `12.000`
 * as 12. A money field sent as a JSON number therefore reaches validation as its literal text
 * (JSON.parse's reviver sees the source text, Node ≥ 22), and the amount rules accept the text only
 * when it is a plain integer in range: anything else is a 400 naming the field, never rounded.
 */
import type { FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";
import { ProblemError } from "../platform/http/problems.ts";

/** Keys whose JSON-number values are money, at any depth (REST bodies, GraphQL variables). */
export const moneyKeys: ReadonlySet<string> = new Set(["amount"]);

// The reviver roughly doubles parse time, so it runs only when a money key may hold a number.
// A key spelled with \u escapes reads differently in the text: any escape takes the careful path.
const numericMoneyHint = /"amount"\s*:\s*[-0-9]/;

const plainInteger = /^[0-9]+$/;

/**
 * A money number comes back as its literal text, which the amount rules accept only when it is a
 * plain integer. JSON numbers beyond 2^53 − 1 are refused (NaN fails validation, naming the field):
 * most JSON clients cannot write them exactly, and the OpenAPI document must be able to state the
 * number form's range; larger amounts go as strings, the documented form.
 */
function keepMoneyLiterals(key: string, value: unknown, context?: { readonly source?: string }): unknown {
  if (typeof value !== "number" || !moneyKeys.has(key) || context?.source === undefined) return value;
  const source = context.source;
  if (plainInteger.test(source) && BigInt(source) > BigInt(Number.MAX_SAFE_INTEGER)) return Number.NaN;
  return source;
}

/**
 * Parses a JSON body. With `moneyLiterals`, money numbers come back as their literal text.
 * Throws a SyntaxError if the text is not JSON or holds a forbidden prototype key.
 */
export function parseJsonBody(text: string, moneyLiterals = true): unknown {
  const careful = moneyLiterals && (numericMoneyHint.test(text) || text.includes("\\u"));
  return secureJson.parse(text, careful ? keepMoneyLiterals : null, {
    protoAction: "error",
    constructorAction: "error",
  });
}

// secure-json-parse's words for a refused key in otherwise valid JSON (its only own SyntaxError).
const forbiddenKeyMessage = /^Object contains forbidden (prototype|constructor) property/;

function problemOfUnparsedBody(error: unknown): ProblemError {
  if (error instanceof SyntaxError && forbiddenKeyMessage.test(error.message)) {
    return new ProblemError("forbidden_json_key", {
      detail: "Keys named __proto__, or constructor holding prototype, are refused at any depth",
    });
  }
  return new ProblemError("validation_failed", { detail: "The body is not valid JSON" });
}

/**
 * Replaces the scope's `application/json` parser (its bodyLimit still applies: parseAs string).
 * `moneyLiterals: false` where the schema types money itself (GraphQL: amounts are `String!`, so a
 * JSON number is refused by GraphQL's own coercion, whatever its literal).
 */
export function installJsonBodyParser(
  app: FastifyInstance,
  options: { readonly moneyLiterals: boolean },
): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = body as string;
    if (text === "") {
      done(new ProblemError("validation_failed", { detail: "The body is empty; send JSON" }), undefined);
      return;
    }
    try {
      done(null, parseJsonBody(text, options.moneyLiterals));
    } catch (error) {
      done(problemOfUnparsedBody(error), undefined);
    }
  });
}
