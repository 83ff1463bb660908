import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { Keyring } from "../../src/crypto/keyring.js";
import { run, runJSON } from "./run.js";

describe("flagon keygen", () => {
  it("prints 32 random bytes as base64url, a fresh one every time", async () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { code, stdout, stderr } = await run(["keygen"]);
      expect(code).toBe(EXIT.ok);
      expect(stderr).toBe("");
      expect(stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(Buffer.from(stdout.trim(), "base64url")).toHaveLength(32);
      secrets.add(stdout);
    }
    expect(secrets.size).toBe(20);
  });

  it("makes a secret flagon accepts (at least 32 bytes)", async () => {
    const { stdout } = await run(["keygen"]);
    expect(new Keyring(stdout.trim()).size).toBe(1);
  });

  it("--json gives the secret and its encoding", async () => {
    const { code, json } = await runJSON(["keygen"]);
    expect(code).toBe(0);
    expect(json).toEqual({
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      bytes: 32,
      encoding: "base64url",
    });
  });

  it("refuses arguments it does not take", async () => {
    expect((await run(["keygen", "extra"])).code).toBe(EXIT.usage);
    expect((await run(["keygen", "--bytes", "16"])).code).toBe(EXIT.usage);
  });
});
