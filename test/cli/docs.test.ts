import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { run } from "./run.js";

const DOC = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");

interface Example {
  command: string;
  argv: string[];
  output: string;
}

/** Splits a shell command line: words, "double-quoted" words, $VARIABLES left as they are. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Every `$ npx flagon ...` in a fenced block, with the lines printed after it. */
function examples(): Example[] {
  const found: Example[] = [];
  for (const [, block] of DOC.matchAll(/^ *```\n([\s\S]*?)^ *```$/gm)) {
    const lines = block!.split("\n").map((line) => line.replace(/^ {2}/, ""));
    for (let i = 0; i < lines.length; i++) {
      const match = /^\$ npx flagon (.*)$/.exec(lines[i]!);
      if (!match) continue;
      const output: string[] = [];
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith("$ ")) output.push(lines[++i]!);
      found.push({ command: match[1]!, argv: words(match[1]!), output: output.join("\n").trimEnd() });
    }
  }
  return found;
}

describe("docs/cli.md is what the CLI does", () => {
  const deterministic = examples().filter(
    (example) => example.argv[0] === "doctor" || example.argv.includes("--bogus"),
  );

  it("has the doctor and usage-error examples", () => {
    expect(deterministic.map((example) => example.command)).toEqual([
      'decode --bogus "$COOKIE"',
      "doctor",
      'doctor "Set-Cookie: sid=v1.x; Path=/; HttpOnly; SameSite=Lax"',
      "doctor --name __Host-sid --secure --samesite lax --size 3900",
    ]);
  });

  it.each(deterministic.map((example) => [example.command, example] as const))(
    "`flagon %s` prints exactly what the docs show",
    async (_command, example) => {
      const { stdout, stderr } = await run(example.argv.map((word) => (word === "$COOKIE" ? "v1.x" : word)));
      expect(`${stdout}${stderr}`.trimEnd()).toBe(example.output);
    },
  );

  it("the exit-code table is EXIT", () => {
    const table = Object.fromEntries(
      [...DOC.matchAll(/^\| (\d) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]!] as const),
    );
    expect(Object.keys(table).map(Number)).toEqual(Object.values(EXIT).sort());
    expect(table[EXIT.usage]).toMatch(/^usage error/);
    expect(table[EXIT.expired]).toMatch(/expired/);
    expect(table[EXIT.invalid]).toMatch(/invalid/);
  });

  it("cites no file the package does not ship", () => {
    expect(DOC).not.toMatch(/SECURITY\.md|DESIGN\.md|PITFALLS\.md|shared\//);
  });
});
