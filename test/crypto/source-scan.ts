import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/** A place in the source that breaks a rule. */
export interface Finding {
  file: string;
  line: number;
  code: string;
}

export const SRC_DIR = new URL("../../src/", import.meta.url).pathname;

/** Every .ts file under `dir`, recursively. */
export function sourceFiles(dir: string = SRC_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(dir, file))
    .sort();
}

function walk(
  fileName: string,
  text: string,
  visit: (node: ts.Node, report: (node: ts.Node) => void) => void,
) {
  const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const report = (node: ts.Node) => {
    const { line } = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile));
    findings.push({ file: relative(SRC_DIR, fileName), line: line + 1, code: node.getText(sourceFile) });
  };
  const recurse = (node: ts.Node): void => {
    visit(node, report);
    ts.forEachChild(node, recurse);
  };
  recurse(sourceFile);
  return findings;
}

const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);
const MAC_WORDS = new Set(["mac", "hmac", "signature", "sig", "digest"]);

/** The name an operand is known by: `mac`, `x.signature`, `hmac.digest(...)` → "mac", "signature", "digest". */
function operandName(node: ts.Expression): string | undefined {
  let current: ts.Expression = node;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isNonNullExpression(current)
  ) {
    current = current.expression;
  }
  if (ts.isCallExpression(current)) current = current.expression;
  if (ts.isIdentifier(current)) return current.text;
  if (ts.isPropertyAccessExpression(current)) return current.name.text;
  return undefined;
}

/** True for names like `mac`, `expectedMac`, `cookieSignature`, `authTag`, `sig` (last camelCase word). */
export function isMacName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_]+/)
    .map((word) => word.toLowerCase());
  const last = words.at(-1) ?? "";
  return MAC_WORDS.has(last) || (last === "tag" && words.at(-2) === "auth");
}

/** Comparing with a literal, undefined, null or a typeof is not comparing two secrets. */
function isLiteralLike(node: ts.Expression): boolean {
  return (
    ts.isLiteralExpression(node) ||
    ts.isNoSubstitutionTemplateLiteral(node) ||
    ts.isTypeOfExpression(node) ||
    node.kind === ts.SyntaxKind.NullKeyword ||
    node.kind === ts.SyntaxKind.TrueKeyword ||
    node.kind === ts.SyntaxKind.FalseKeyword ||
    (ts.isIdentifier(node) && node.text === "undefined")
  );
}

/** `===`/`!==`/`==`/`!=` between two expressions where one is named like a MAC (docs/security.md §6). */
export function findMacEquality(fileName: string, text: string): Finding[] {
  return walk(fileName, text, (node, report) => {
    if (!ts.isBinaryExpression(node) || !EQUALITY.has(node.operatorToken.kind)) return;
    if (isLiteralLike(node.left) || isLiteralLike(node.right)) return;
    const names = [operandName(node.left), operandName(node.right)];
    if (names.some((name) => name !== undefined && isMacName(name))) report(node);
  });
}

/** `Math.random` or any `randomUUID` (docs/security.md §10). */
export function findWeakRandom(fileName: string, text: string): Finding[] {
  return walk(fileName, text, (node, report) => {
    if (ts.isIdentifier(node) && node.text === "randomUUID") report(node);
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === "random" &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "Math"
    ) {
      report(node);
    }
  });
}

/** Runs `rule` over every file under src/. */
export function scanSources(rule: (fileName: string, text: string) => Finding[]): Finding[] {
  return sourceFiles().flatMap((file) => rule(file, readFileSync(file, "utf8")));
}
