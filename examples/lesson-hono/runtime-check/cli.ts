/** `node --import tsx` / `bun` / `deno run`: prints the check as JSON; exit code 1 if any failed. */
import { runtimeCheck } from "./check.js";

const results = await runtimeCheck();
console.log(JSON.stringify(results, null, 2));
if (Object.values(results).some((result) => result !== true)) process.exitCode = 1;
