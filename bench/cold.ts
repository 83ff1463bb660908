/**
 * `node --conditions=flagon-source --import tsx bench/cold.ts`
 *
 * One session read (`load` + `prepare`, sealed cookie, 1000 distinct cookies) with a hot CPU cache and
 * with a cold one (8 MiB touched between reads, as a server's own work does between two session reads).
 * Shows why a session read costs several times more in a server than in a tight loop
 * (docs/performance.md, "Where the time goes").
 */
import { cookieStore, createSessions } from "../src/index.js";

const core = createSessions({
  secret: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
  store: cookieStore(),
});
const pool: Array<{ cookie: string }> = [];
for (let i = 0; i < 1000; i++) {
  const session = await core.load({ headers: {} });
  session.set("name", "Leo");
  session.set("visitor", i);
  const headers = new Headers();
  await core.commit(session, headers);
  pool.push({ cookie: (headers.getSetCookie()[0] ?? "").split(";")[0] as string });
}
const junk = new Float64Array(1 << 20);
function thrash(): number {
  let sum = 0;
  for (let i = 0; i < junk.length; i += 8) {
    const value = junk[i] ?? 0;
    junk[i] = value + 1;
    sum += value;
  }
  return sum;
}
const reads = 3000;
for (const mode of ["hot", "cold", "hot", "cold", "hot", "cold"] as const) {
  let spent = 0n;
  for (let i = 0; i < reads; i++) {
    if (mode === "cold") thrash();
    const started = process.hrtime.bigint();
    const session = await core.load({ headers: pool[i % pool.length]! });
    session.get("name");
    core.prepare(session);
    spent += process.hrtime.bigint() - started;
  }
  console.log(`${mode.padEnd(4)} ${(Number(spent) / reads / 1000).toFixed(1)} µs per load + prepare`);
}
