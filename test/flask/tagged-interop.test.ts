/**
 * codec "tagged" with the Flask store, against real Flask 2.2 (/usr/bin/python3): flagon's tags are
 * not Flask's, so Flask reads a flagon cookie as plain dicts and, writing them back, gives flagon a
 * cookie whose Dates, Maps, Sets, BigInts and bytes read back as they were written.
 */
import { describe, expect, it } from "vitest";
import { flaskCookieStore } from "../../src/flask/index.js";
import { createSessions } from "../../src/index.js";
import { flask } from "./oracle.js";

const SECRET = "flask-tagged-interop-secret-0123456789abcdef";

describe('codec "tagged" through real Flask', () => {
  it("Flask reads the cookie and writes the same values back", async () => {
    const core = createSessions({ store: flaskCookieStore({ secretKey: SECRET }), codec: "tagged" });
    const value = {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
      byId: new Map<unknown, unknown>([[1, "one"]]),
      tags: new Set(["a"]),
      total: 2n ** 70n,
      bytes: new Uint8Array([0, 255]),
      plain: { n: 1 },
    };
    const session = await core.load({ headers: {} });
    session.set("cart", value);
    const headers = new Headers();
    await core.commit(session, headers);
    const cookie = headers.getSetCookie()[0]!.split(";")[0]!.slice("session=".length);

    const [read] = flask<{ status: number; session: Record<string, unknown> }>([
      { op: "read", secret: SECRET, cookie },
    ]);
    expect(read!.status).toBe(200);
    // Python sees dicts keyed by flagon's tags, and plain data as it is.
    expect(read!.session.cart).toMatchObject({ at: { " fd": "2026-01-02T03:04:05.678Z" }, plain: { n: 1 } });

    const [minted] = flask<{ status: number; cookie: string }>([
      { op: "mint", secret: SECRET, data: read!.session },
    ]);
    expect(minted!.status).toBe(200);
    const back = await core.load({ headers: { cookie: `session=${minted!.cookie}` } });
    expect(back.status).toBe("active");
    expect(back.get("cart")).toEqual(value);
    expect((back.get("cart") as typeof value).total).toBe(2n ** 70n);
  });
});
