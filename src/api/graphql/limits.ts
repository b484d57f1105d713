/**
 * Bounds on the work one GraphQL document can ask for, checked before anything executes: its size in
 * characters and tokens, how deep its selections nest and how many selections it makes once fragments
 * are expanded (aliases make a small document ask for the same expensive field many times).
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  parse,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

export interface DocumentLimits {
  /** Longest accepted query text. */
  readonly queryCharsMax: number;
  /** Most lexical tokens the parser reads before giving up. */
  readonly queryTokensMax: number;
  /** Deepest nesting of fields (a top-level field is depth 1). */
  readonly depthMax: number;
  /** Deepest nesting inside `__schema` / `__type`: the standard introspection query nests ~12 deep. */
  readonly introspectionDepthMax: number;
  /** Most selections (fields, fragment spreads, inline fragments) after expanding fragments. */
  readonly selectionsMax: number;
  /** Most top-level fields: each may be a database query, so aliases must not multiply them freely. */
  readonly rootFieldsMax: number;
}

export const defaultDocumentLimits: DocumentLimits = {
  queryCharsMax: 16 * 1024,
  queryTokensMax: 4_000,
  depthMax: 8,
  introspectionDepthMax: 16,
  selectionsMax: 1_000,
  rootFieldsMax: 16,
};

const limitCode = { code: "validation_failed" } as const;

/** Parses `query` within the size limits; a GraphQLError (syntax or size) otherwise. */
export function parseWithinLimits(query: string, limits: DocumentLimits): DocumentNode | GraphQLError {
  if (query.length > limits.queryCharsMax) {
    return new GraphQLError(`The query is longer than ${limits.queryCharsMax} characters`, {
      extensions: { ...limitCode, field: "query" },
    });
  }
  try {
    return parse(query, { maxTokens: limits.queryTokensMax });
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
}

interface Measure {
  rootFields: number;
  depth: number;
  selections: number;
  introspectionDepth: number;
}

/** Validation rule: rejects operations nesting deeper or selecting more than `limits` allow. */
export function documentLimitsRule(limits: DocumentLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const measure: Measure = { rootFields: 0, depth: 0, selections: 0, introspectionDepth: 0 };
      walk(context, operation.selectionSet, 1, false, measure, limits, new Set());
      if (measure.rootFields > limits.rootFieldsMax) {
        context.reportError(
          new GraphQLError(`The operation asks for more than ${limits.rootFieldsMax} top-level fields`, {
            nodes: operation,
            extensions: { ...limitCode, field: "query" },
          }),
        );
      } else if (measure.selections > limits.selectionsMax) {
        context.reportError(
          new GraphQLError(`The operation makes more than ${limits.selectionsMax} selections`, {
            nodes: operation,
            extensions: { ...limitCode, field: "query" },
          }),
        );
      } else if (exceeded(measure, limits)) {
        context.reportError(
          new GraphQLError(`The operation nests deeper than ${limits.depthMax} levels`, {
            nodes: operation,
            extensions: { ...limitCode, field: "query" },
          }),
        );
      }
      return false;
    },
  });
}

/**
 * Depth-first over the selections with fragments expanded in place. Stops as soon as a limit is
 * passed, so a document whose fragments multiply (A spreads B twice, B spreads C twice…) costs at
 * most `selectionsMax` steps; `inFlight` breaks fragment cycles (NoFragmentCyclesRule reports them).
 */
function walk(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  depth: number,
  introspection: boolean,
  measure: Measure,
  limits: DocumentLimits,
  inFlight: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (exceeded(measure, limits)) return;
    measure.selections += 1;
    if (selection.kind === Kind.FIELD) {
      const inIntrospection =
        introspection || selection.name.value === "__schema" || selection.name.value === "__type";
      if (depth === 1) measure.rootFields += 1;
      if (inIntrospection) measure.introspectionDepth = Math.max(measure.introspectionDepth, depth);
      else measure.depth = Math.max(measure.depth, depth);
      if (selection.selectionSet) {
        walk(context, selection.selectionSet, depth + 1, inIntrospection, measure, limits, inFlight);
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      walk(context, selection.selectionSet, depth, introspection, measure, limits, inFlight);
    } else {
      const name = selection.name.value;
      const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
      if (!fragment || inFlight.has(name)) continue;
      inFlight.add(name);
      walk(context, fragment.selectionSet, depth, introspection, measure, limits, inFlight);
      inFlight.delete(name);
    }
  }
}

function exceeded(measure: Measure, limits: DocumentLimits): boolean {
  return (
    measure.rootFields > limits.rootFieldsMax ||
    measure.selections > limits.selectionsMax ||
    measure.depth > limits.depthMax ||
    measure.introspectionDepth > limits.introspectionDepthMax
  );
}
