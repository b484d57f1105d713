/**
 * GraphQL errors speak the problem registry's language: every error leaving the API carries a stable
 * `extensions.code` (and `extensions.field` for bad input), built from `problems.ts`. Anything we did
 * not mean to say becomes `internal` with a fixed message: no stack, no internal message.
 */
import { GraphQLError } from "graphql";
import type { ZodError } from "zod";
import { InfrastructureError } from "../../platform/errors.ts";
import { type Problem, type ProblemCode, ProblemError, problem } from "../../platform/http/problems.ts";

/** Problem members that become the GraphQL message or are HTTP-only; the rest are extensions. */
const nonExtensionMembers = new Set(["type", "title", "status", "detail", "instance"]);

export function problemExtensions(body: Problem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !nonExtensionMembers.has(key)));
}

/** A GraphQL error for a registry code, e.g. before any resolver runs (auth, limits). */
export function graphqlProblem(
  code: ProblemCode,
  options: { detail?: string; field?: string; extra?: Record<string, unknown> } = {},
): GraphQLError {
  const body = problem(code, options);
  return new GraphQLError(body.detail ?? body.title, { extensions: problemExtensions(body) });
}

/** The first zod issue as the REST API reports it: 400 validation_failed naming the field. */
export function validationProblem(error: ZodError): ProblemError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join("/") || undefined;
  const detail = issue === undefined ? "Invalid input" : `${field ?? "input"}: ${issue.message}`;
  return new ProblemError("validation_failed", { detail, ...(field === undefined ? {} : { field }) });
}

/**
 * What the client sees of `error`. `onInternal` receives unexpected failures (to log them with their
 * stack); the client only learns that something went wrong.
 */
export function toClientError(
  error: GraphQLError | Error,
  onInternal: (cause: unknown) => void,
): GraphQLError {
  if (!(error instanceof GraphQLError)) {
    // graphql-http's request parsing ("Missing query", "Unparsable JSON body"): safe, about the input.
    return graphqlProblem("validation_failed", { detail: error.message });
  }
  const original = error.originalError;
  const at = { nodes: error.nodes, path: error.path };
  if (original === undefined || original === null) return withDefaultCode(error);
  if (original instanceof ProblemError) {
    const body = original.problem;
    return new GraphQLError(body.detail ?? body.title, { ...at, extensions: problemExtensions(body) });
  }
  if (original instanceof GraphQLError && typeof original.extensions.code === "string") {
    return new GraphQLError(original.message, { ...at, extensions: original.extensions });
  }
  // graphql-js wrapping its own error (e.g. a scalar refusing a variable): the outer message names it.
  if (original instanceof GraphQLError) return withDefaultCode(error);
  if (original instanceof InfrastructureError && original.code === "unavailable") {
    const body = problem("unavailable", { extra: { retryAfterS: 1 } });
    return new GraphQLError(body.title, { ...at, extensions: problemExtensions(body) });
  }
  onInternal(original);
  const body = problem("internal");
  return new GraphQLError(body.title, { ...at, extensions: problemExtensions(body) });
}

/**
 * graphql-js's own errors (syntax, validation, variable coercion) are about the client's input:
 * validation_failed, naming the variable or argument when the message does.
 */
function withDefaultCode(error: GraphQLError): GraphQLError {
  if (typeof error.extensions.code === "string") return error;
  const field = fieldInMessage(error.message);
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: "validation_failed", ...(field === undefined ? {} : { field }) },
  });
}

const fieldPatterns = [/^Variable "\$(\w+)"/, /argument "(\w+)"/, /^Unknown argument "(\w+)"/];

export function fieldInMessage(message: string): string | undefined {
  for (const pattern of fieldPatterns) {
    const name = pattern.exec(message)?.[1];
    if (name !== undefined) return name;
  }
  return undefined;
}
