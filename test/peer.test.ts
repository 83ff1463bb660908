/**
 * A store whose peer package is missing fails at import with the package and version to install
 * (the packed-tarball smoke test proves it for flagon/sqlite in a project without better-sqlite3).
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { requirePeer } from "../src/peer.js";

describe("requirePeer", () => {
  it("loads an installed peer synchronously", () => {
    const cookie = requirePeer<{ parseCookie: unknown }>("flagon", "cookie", "1");
    expect(typeof cookie.parseCookie).toBe("function");
  });

  it("a missing peer is a ConfigError naming the entry, the package, the range and the command", () => {
    let error: unknown;
    try {
      requirePeer("flagon/example", "flagon-no-such-peer", "3", "Then restart.");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("ERR_PEER_MISSING");
    expect((error as Error).message).toBe(
      "flagon/example needs the package flagon-no-such-peer@3, which is not installed: npm install flagon-no-such-peer@3. Then restart.",
    );
    expect(((error as Error).cause as { code?: string }).code).toBe("MODULE_NOT_FOUND");
  });
});
