import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type TypedJSON, toTypedJSON } from "../../src/flask/index.js";

/** Debian's interpreter: python3-flask (2.2.2) lives there, not in whatever python3 is first on PATH. */
export const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./flask_oracle.py", import.meta.url));

/** Runs one batch of operations through real Flask (test/flask/flask_oracle.py). */
export function flask<T = unknown>(ops: ReadonlyArray<Record<string, unknown>>): T[] {
  let output: Buffer;
  try {
    output = execFileSync(PYTHON, [SCRIPT], {
      input: JSON.stringify({ ops }),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
    if (stderr.includes("No module named 'flask'")) {
      throw new Error(`${PYTHON} has no Flask: apt-get install -y python3-flask (.ci/run does)`, {
        cause: error,
      });
    }
    throw new Error(`the Flask oracle failed: ${stderr.slice(-2000)}`, { cause: error });
  }
  return (JSON.parse(output.toString("utf8")) as { results: T[] }).results;
}

/** Typed JSON where every number that is not a safe integer is a Python float literal. */
export function toOracleJSON(value: unknown): TypedJSON {
  const mark = (json: TypedJSON): TypedJSON => {
    if (typeof json === "number") {
      return Number.isSafeInteger(json) && !Object.is(json, -0)
        ? json
        : { $float: Object.is(json, -0) ? "-0" : String(json) };
    }
    if (Array.isArray(json)) return json.map(mark);
    if (json !== null && typeof json === "object") {
      const out: { [key: string]: TypedJSON } = {};
      for (const [key, item] of Object.entries(json))
        Object.defineProperty(out, key, { value: mark(item), enumerable: true });
      return out;
    }
    return json;
  };
  return mark(toTypedJSON(value));
}
