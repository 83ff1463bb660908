/**
 * `npm run bench:crypto-floor`
 *
 * Instructions per open of a ~200-byte sealed value, counted by callgrind: node:crypto's AES-256-GCM
 * (what flagon's sealed cookies use: createDecipheriv + setAAD + setAuthTag + update + final) against
 * libsodium's crypto_secretbox_open_easy (what @fastify/secure-session uses, through sodium-native, with
 * the output Buffer it allocates). Each primitive runs N1 and N2 times in a fresh process; the
 * difference over N2 - N1 is the cost of one call, without node's start-up. This is the part of the gap
 * between flagon and @fastify/secure-session that the choice of primitive decides (docs/performance.md).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type Sodium = {
  crypto_secretbox_easy(c: Buffer, m: Buffer, n: Buffer, k: Buffer): void;
  crypto_secretbox_open_easy(m: Buffer, c: Buffer, n: Buffer, k: Buffer): boolean;
};

const [mode, count] = process.argv.slice(2);
if (mode === "gcm" || mode === "sodium") {
  // The measured child: N opens of the same value (a cache would not help: none is used here).
  const n = Number(count);
  const key = randomBytes(32);
  const plain = Buffer.alloc(200, 65);
  const aad = Buffer.from("v1.sid");
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const tag = cipher.getAuthTag();
  const sodium = createRequire(import.meta.url)("sodium-native") as Sodium;
  const boxNonce = randomBytes(24);
  const box = Buffer.alloc(plain.length + 16);
  sodium.crypto_secretbox_easy(box, plain, boxNonce, key);
  for (let i = 0; i < n; i++) {
    if (mode === "gcm") {
      const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      decipher.update(encrypted);
      decipher.final();
    } else {
      sodium.crypto_secretbox_open_easy(Buffer.allocUnsafe(plain.length), box, boxNonce, key);
    }
  }
} else {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("bench:crypto-floor needs valgrind (Debian: apt-get install valgrind)");
  }
  const self = fileURLToPath(import.meta.url);
  const instructions = (primitive: string, n: number): number => {
    const run = spawnSync(
      "valgrind",
      [
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        process.execPath,
        "--single-threaded",
        "--import",
        "tsx",
        self,
        primitive,
        String(n),
      ],
      { encoding: "utf8" },
    );
    const match = /Collected : (\d+)/.exec(run.stderr);
    if (!match) throw new Error(`callgrind printed no total for ${primitive}: ${run.stderr.slice(-500)}`);
    return Number(match[1]);
  };
  const [low, high] = [2000, 22000];
  for (const primitive of ["gcm", "sodium"]) {
    const per = (instructions(primitive, high) - instructions(primitive, low)) / (high - low);
    const label = primitive === "gcm" ? "node:crypto AES-256-GCM open" : "libsodium secretbox_open";
    console.log(`${label.padEnd(32)} ${Math.round(per).toLocaleString("en")} instructions`);
  }
}
