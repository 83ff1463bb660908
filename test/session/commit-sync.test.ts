import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore } from "../../src/index.js";

const secret = "commit-sync-secret-0123456789abcdefghij";

async function cookieAfterWrite(sessions: ReturnType<typeof createSessions>): Promise<string> {
  const session = await sessions.load({ headers: {} });
  session.set("name", "Leo");
  const headers = new Headers();
  await sessions.commit(session, headers);
  return (headers.getSetCookie()[0] ?? "").split(";")[0] as string;
}

describe("commitSync: the adapters' fast path", () => {
  it("commits a read of a server-store session without I/O (Vary only)", async () => {
    const sessions = createSessions({ secret, store: memoryStore() });
    const cookie = await cookieAfterWrite(sessions);
    const session = await sessions.load({ headers: { cookie } });
    expect(session.get("name")).toBe("Leo");
    const headers = new Headers();
    expect(sessions.commitSync(session, headers)).toBe(true);
    expect(headers.get("vary")).toBe("Cookie");
    expect(headers.getSetCookie()).toEqual([]);
  });

  it("declines a server-store write and leaves the headers untouched; commit then writes it", async () => {
    const store = memoryStore();
    const sessions = createSessions({ secret, store });
    const cookie = await cookieAfterWrite(sessions);
    const session = await sessions.load({ headers: { cookie } });
    session.set("name", "Ada");
    const headers = new Headers();
    expect(sessions.commitSync(session, headers)).toBe(false);
    expect([...headers.keys()]).toEqual([]);
    await sessions.commit(session, headers);
    const again = await sessions.load({ headers: { cookie } });
    expect(again.get("name")).toBe("Ada");
  });

  it("commits any cookie-store change synchronously (the cookie is the store)", async () => {
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("name", "Leo");
    session.flash("saved");
    const headers = new Headers();
    expect(sessions.commitSync(session, headers)).toBe(true);
    const cookie = (headers.getSetCookie()[0] ?? "").split(";")[0] as string;
    expect(headers.get("cache-control")).toBe("private, no-store");
    const next = await sessions.load({ headers: { cookie } });
    expect(next.get("name")).toBe("Leo");
    expect(next.getFlashedMessages()).toEqual(["saved"]);
  });

  it("throws ERR_COOKIE_TOO_LARGE like commit does", async () => {
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("blob", "x".repeat(5000));
    expect(() => sessions.commitSync(session, new Headers())).toThrow(
      expect.objectContaining({ code: "ERR_COOKIE_TOO_LARGE" }),
    );
  });
});
