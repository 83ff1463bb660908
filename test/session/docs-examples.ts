/**
 * Every ```ts block of a docs/ page is a complete program: `describeDocExamples` runs each one as written
 * (they check themselves with node:assert), so the documentation cannot drift from the code. Blocks are
 * written under test/session/ so that `import … from "flagon"` resolves the way it does for users (the
 * package's own exports, "source" condition).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

export function describeDocExamples(page: string, minimumExamples: number): void {
  const markdown = readFileSync(join(here, "../../docs", page), "utf8");
  /** Each ```ts block with the heading it sits under. */
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => {
    const headings = [...markdown.slice(0, match.index).matchAll(/^#{2,4} (.+)$/gm)];
    return { code: match[1]!, heading: headings.at(-1)?.[1] ?? "" };
  });
  const workDir = join(here, `.docs-run-${page.replace(/\.md$/, "")}-${process.pid}`);

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  describe(`docs/${page} examples`, () => {
    it("has runnable examples, each importing flagon", () => {
      expect(blocks.length).toBeGreaterThanOrEqual(minimumExamples);
      for (const block of blocks) expect(block.code).toMatch(/from "flagon"/);
    });

    it.each(blocks.map(({ code, heading }, index) => [index + 1, heading, code] as const))(
      "example %i (%s) runs",
      async (index, _heading, code) => {
        mkdirSync(workDir, { recursive: true });
        const file = join(workDir, `example-${index}.ts`);
        writeFileSync(file, code);
        await import(pathToFileURL(file).href);
      },
    );
  });
}
