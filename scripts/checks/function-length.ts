#!/usr/bin/env node
/**
 * Functions in src stay ≤ 70 lines (the project's standard), or carry a comment saying why:
 * a `// long-function: <reason>` line directly above the function (or its statement).
 * Counts every function-like node (declarations, methods, arrows, function expressions) over its
 * whole span, nested functions included, in src/**\/*.ts except tests.
 * Usage: node scripts/checks/function-length.ts [--list] [--max N] [--known FILE] [paths…]
 * Exit code 1 when a function is too long and says nothing; `--list` prints every long one.
 * `--known FILE` lists `path name` lines still to split (issue 12): they are reported, not failed;
 * a new long function fails.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import ts from "typescript";

export interface LongFunction {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly lines: number;
  readonly excused: boolean;
}

const excuseMarker = /long-function:\s*\S/;

function sourceFiles(root: string): string[] {
  if (statSync(root).isFile()) return [root];
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".ts") && !/\.test\.ts$|\.cases\.ts$|(^|\/)test\//.test(path))
    .map((path) => join(root, path))
    .sort();
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  if (parent && ts.isCallExpression(parent)) return `${parent.expression.getText(source).slice(0, 40)}(…)`;
  return "(anonymous)";
}

/** The comments above the function or above the statement that holds it. */
function isExcused(node: ts.Node, source: ts.SourceFile): boolean {
  const text = source.getFullText();
  for (let at: ts.Node | undefined = node; at && !ts.isSourceFile(at); at = at.parent) {
    const ranges = ts.getLeadingCommentRanges(text, at.getFullStart()) ?? [];
    if (ranges.some((r) => excuseMarker.test(text.slice(r.pos, r.end)))) return true;
    if (ts.isStatement(at) || ts.isClassElement(at)) break;
  }
  return false;
}

export function longFunctions(files: readonly string[], linesMax: number): LongFunction[] {
  const found: LongFunction[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > linesMax)
          found.push({
            file,
            name: nameOf(node, source),
            line: start + 1,
            lines,
            excused: isExcused(node, source),
          });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: {
      list: { type: "boolean", default: false },
      max: { type: "string", default: "70" },
      known: { type: "string" },
    },
    allowPositionals: true,
  });
  const roots = positionals.length > 0 ? positionals : ["src"];
  const found = longFunctions(roots.flatMap(sourceFiles), Number(values.max));
  const known = new Set(
    values.known
      ? readFileSync(values.known, "utf8")
          .split("\n")
          .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      : [],
  );
  const isKnown = (f: LongFunction) => known.has(`${relative(".", f.file)} ${f.name}`);
  const unexcused = found.filter((f) => !f.excused && !isKnown(f));
  const shown = values.list ? found : unexcused;
  for (const f of shown)
    process.stdout.write(
      `${relative(".", f.file)}:${f.line} ${f.name} ${f.lines} lines${f.excused ? " (excused)" : ""}\n`,
    );
  process.stdout.write(
    `${found.length} functions over ${values.max} lines: ${found.filter((f) => f.excused).length} with a comment saying why, ${found.filter(isKnown).length} known (still to split), ${unexcused.length} new\n`,
  );
  if (unexcused.length > 0) process.exitCode = 1;
}
