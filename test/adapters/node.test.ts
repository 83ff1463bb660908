import { once } from "node:events";
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, connect } from "node:net";
import express from "express";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessions as expressSessions } from "../../src/adapters/express/index.js";
import {
  csrfProtection,
  type NextFunction,
  type SessionRequest,
  withSessions,
} from "../../src/adapters/node/index.js";
import { cookieStore, createSessions, SessionStoreError } from "../../src/index.js";
import { fetchBrowser, flakyStore, SECRET, slowStore, unhandledRejectionsDuring } from "./helpers.js";

const servers: Server[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

async function listen(listener: RequestListener | express.Express): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The usual routes as one plain handler. */
function routes(req: SessionRequest, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://node.invalid");
  if (url.pathname === "/set") {
    req.session.set("name", url.searchParams.get("name") ?? "Leo");
    res.writeHead(302, { Location: "/get" }).end();
  } else if (url.pathname === "/get") {
    res.end(String(req.session.get("name") ?? "none"));
  } else if (url.pathname === "/stream") {
    req.session.set("name", "streamed");
    // Writes made while the commit runs are held and replayed in order.
    for (let i = 0; i < 100; i += 1) res.write(`${String(i).padStart(4, "0")}\n`);
    res.end("end");
  } else {
    res.end("static");
  }
}

/** A minimal connect: each middleware gets (req, res, next); an error skips to the error handler. */
function chain(
  middleware: Array<(req: IncomingMessage, res: ServerResponse, next: NextFunction) => void>,
  onError: (error: unknown, req: IncomingMessage, res: ServerResponse) => void,
): RequestListener {
  return (req, res) => {
    let index = 0;
    const next: NextFunction = (error) => {
      if (error !== undefined) {
        onError(error, req, res);
        return;
      }
      const layer = middleware[index++];
      if (layer === undefined) res.writeHead(404).end();
      else layer(req, res, next);
    };
    next();
  };
}

describe("flagon/node withSessions()", () => {
  it("a plain handler: committed before the first byte, so a redirect never races the store write", async () => {
    const store = slowStore();
    const url = await listen(withSessions({ secret: SECRET, store }, routes));
    for (let i = 0; i < 60; i += 1) {
      const client = fetchBrowser(url);
      const set = await client.request(`/set?name=n${i}`);
      expect(set.status).toBe(302);
      expect(set.headers.get("vary")).toBe("Cookie");
      expect(set.headers.get("cache-control")).toBe("private, no-store");
      expect((await client.request("/get")).text).toBe(`n${i}`);
    }
    expect(store.writes).toBe(60);
  });

  it("held writes are replayed in order after the store write", async () => {
    const store = slowStore();
    const url = await listen(withSessions({ secret: SECRET, store }, routes));
    const client = fetchBrowser(url);
    const response = await client.request("/stream");
    expect(response.headers.getSetCookie()).toHaveLength(1);
    const expected = `${Array.from({ length: 100 }, (_, i) => `${String(i).padStart(4, "0")}\n`).join("")}end`;
    expect(response.text).toBe(expected);
    expect((await client.request("/get")).text).toBe("streamed");
  });

  it("connect-style: req.session for the middleware after it, in a connect chain and in Express", async () => {
    const store = slowStore();
    const core = createSessions({ secret: SECRET, store });
    const fail = vi.fn();
    const listener = chain([withSessions(core), (req, res) => routes(req as SessionRequest, res)], fail);
    const app = express();
    app.use(withSessions(core));
    app.use((req, res) => routes(req as unknown as SessionRequest, res));
    for (const url of [await listen(listener), await listen(app)]) {
      for (let i = 0; i < 10; i += 1) {
        const client = fetchBrowser(url);
        expect((await client.request(`/set?name=c${i}`)).status).toBe(302);
        expect((await client.request("/get")).text).toBe(`c${i}`);
      }
    }
    expect(store.writes).toBe(20);
    expect(fail).not.toHaveBeenCalled();
  });

  it("node, Express and unwrapped servers in one process: each session commits once, the plain server is untouched", async () => {
    // One process, three kinds of response: flagon/node's (held by wrappers on the response),
    // flagon/express's (held through express.response) and a server without flagon.
    const store = slowStore();
    const nodeUrl = await listen(withSessions({ secret: SECRET, store }, routes));
    const app = express();
    app.use(expressSessions({ secret: SECRET, store }));
    app.get("/set", (req, res) => {
      req.session.set("name", "express");
      res.redirect(302, "/get");
    });
    app.get("/get", (req, res) => {
      res.send(String(req.session.get("name") ?? "none"));
    });
    const expressUrl = await listen(app);
    const plainUrl = await listen((_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader("X-Plain", "1");
      res.end("plain");
    });
    const cookieOnly = await listen(
      withSessions({ secret: SECRET, store: cookieStore() }, (req, res) => routes(req, res)),
    );
    for (let i = 0; i < 5; i += 1) {
      const viaNode = fetchBrowser(nodeUrl);
      const set = await viaNode.request(`/set?name=n${i}`);
      expect(set.headers.getSetCookie()).toHaveLength(1);
      expect((await viaNode.request("/get")).text).toBe(`n${i}`);
      const viaExpress = fetchBrowser(expressUrl);
      const expressSet = await viaExpress.request("/set");
      expect(expressSet.status).toBe(302);
      expect(expressSet.headers.getSetCookie()).toHaveLength(1);
      expect((await viaExpress.request("/get")).text).toBe("express");
      const viaCookie = fetchBrowser(cookieOnly);
      expect((await viaCookie.request(`/set?name=c${i}`)).headers.getSetCookie()).toHaveLength(1);
      expect((await viaCookie.request("/get")).text).toBe(`c${i}`);
      const plain = await fetch(plainUrl);
      expect(plain.headers.get("x-plain")).toBe("1");
      expect(plain.headers.get("set-cookie")).toBeNull();
      expect(await plain.text()).toBe("plain");
    }
    expect(store.writes).toBe(10);
  });

  it("connect-style store failures go to next(error) with status 503 and Retry-After headers", async () => {
    const { store, fail } = flakyStore();
    const errors: unknown[] = [];
    const listener = chain(
      [withSessions({ secret: SECRET, store }), (req, res) => routes(req as SessionRequest, res)],
      (error, _req, res) => {
        errors.push(error);
        const { status, headers } = error as { status: number; headers: Record<string, string> };
        res.writeHead(status, headers).end("handled");
      },
    );
    const url = await listen(listener);
    const client = fetchBrowser(url);
    await client.request("/set");
    fail.get = true;
    const down = await client.request("/get");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    fail.get = false;
    fail.apply = true;
    const failedWrite = await fetchBrowser(url).request("/set");
    expect(failedWrite.status).toBe(503);
    expect(failedWrite.headers.get("location")).toBeNull();
    expect(failedWrite.headers.getSetCookie()).toEqual([]);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toBeInstanceOf(SessionStoreError);
  });

  it("a plain handler's store failures answer 503 by themselves, never an unhandled rejection", async () => {
    const { store, fail } = flakyStore();
    let ran = 0;
    const url = await listen(
      withSessions({ secret: SECRET, store }, (req, res) => {
        ran += 1;
        routes(req, res);
      }),
    );
    const client = fetchBrowser(url);
    await client.request("/set");
    ran = 0;
    const rejections = await unhandledRejectionsDuring(async () => {
      fail.get = true;
      const down = await client.request("/get");
      expect(down.status).toBe(503);
      expect(down.text).toBe("Service Unavailable");
      expect(down.headers.get("retry-after")).toBe("5");
      expect(down.headers.get("cache-control")).toBe("no-store");
      expect(ran).toBe(0);
      fail.get = false;
      fail.apply = true;
      const failedWrite = await fetchBrowser(url).request("/set");
      expect(failedWrite.status).toBe(503);
      expect(failedWrite.headers.get("location")).toBeNull();
      expect(failedWrite.headers.getSetCookie()).toEqual([]);
    });
    expect(rejections).toEqual([]);
  });

  it("onError renders store failures and handler errors for plain handlers", async () => {
    const { store, fail } = flakyStore();
    const seen: unknown[] = [];
    const url = await listen(
      withSessions(
        {
          secret: SECRET,
          store,
          onError: (error, _req, res) => {
            seen.push(error);
            res.statusCode = (error as { status?: number }).status ?? 500;
            res.end("custom");
          },
        },
        async (req, res) => {
          if (req.url === "/throw") throw new Error("handler failed");
          routes(req, res);
        },
      ),
    );
    fail.apply = true;
    const down = await fetchBrowser(url).request("/set");
    expect([down.status, down.text]).toEqual([503, "custom"]);
    const thrown = await fetchBrowser(url).request("/throw");
    expect([thrown.status, thrown.text]).toEqual([500, "custom"]);
    expect(seen[0]).toBeInstanceOf(SessionStoreError);
    expect((seen[1] as Error).message).toBe("handler failed");
  });

  it("a handler that rejects gets a 500 that still commits its flash (as in Flask), not an unhandled rejection", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const url = await listen(
      withSessions({ secret: SECRET }, async (req, res) => {
        if (req.url === "/boom") {
          req.session.flash("Something broke.", "error");
          res.setHeader("Location", "/elsewhere");
          await Promise.resolve();
          throw new Error("boom");
        }
        res.end(JSON.stringify(req.session.getFlashedMessages()));
      }),
    );
    const client = fetchBrowser(url);
    const rejections = await unhandledRejectionsDuring(async () => {
      const boom = await client.request("/boom");
      expect(boom.status).toBe(500);
      expect(boom.text).toBe("Internal Server Error");
      expect(boom.headers.get("location")).toBeNull();
      expect(boom.headers.getSetCookie()).toHaveLength(1);
    });
    expect(rejections).toEqual([]);
    expect(printed.mock.calls[0]?.[0]).toMatchObject({ message: "boom" });
    expect(JSON.parse((await client.request("/messages")).text)).toEqual(["Something broke."]);
  });

  it("isSecure decides __Host- and Secure; the default trusts only a TLS socket", async () => {
    const headers = { "x-forwarded-proto": "https" };
    const proxied = await listen(
      withSessions(
        { secret: SECRET, isSecure: (req) => req.headers["x-forwarded-proto"] === "https" },
        routes,
      ),
    );
    const set = await fetchBrowser(proxied).request("/set", { headers });
    expect(set.headers.getSetCookie()[0]).toMatch(
      /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const plain = await listen(withSessions({ secret: SECRET }, routes));
    expect((await fetchBrowser(plain).request("/set", { headers })).headers.getSetCookie()[0]).toMatch(
      /^sid=/,
    );
  });

  it("accepts a core (with or without adapter options) and exposes it", () => {
    const core = createSessions({ secret: SECRET });
    expect(withSessions(core, routes).sessions).toBe(core);
    expect(withSessions(core, { retryAfter: false }, routes).sessions).toBe(core);
    expect(withSessions(core).sessions).toBe(core);
  });

  it("untouched routes get no Vary and no cookie", async () => {
    const url = await listen(withSessions({ secret: SECRET }, routes));
    const client = fetchBrowser(url);
    await client.request("/set");
    const response = await client.request("/static");
    expect(response.headers.get("vary")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("flagon/node csrfProtection()", () => {
  function app(options = {}) {
    return withSessions(
      { secret: SECRET },
      csrfProtection(options, (req, res) => {
        if (req.url === "/form") {
          res.end(req.session.csrfToken());
          return;
        }
        const body = (req as { body?: Record<string, string> }).body;
        res.end(`ok:${String(body?.note)}`);
      }),
    );
  }
  const form = { "content-type": "application/x-www-form-urlencoded" };

  it("reads the token from a urlencoded body (left in req.body) or the header", async () => {
    const url = await listen(app());
    const client = fetchBrowser(url);
    const token = (await client.request("/form")).text;
    const ok = await client.request("/submit", {
      method: "POST",
      headers: { ...form, origin: url },
      body: new URLSearchParams({ csrf_token: token, note: "hi" }).toString(),
    });
    expect([ok.status, ok.text]).toEqual([200, "ok:hi"]);
    const byHeader = await client.request("/submit", { method: "POST", headers: { "x-csrf-token": token } });
    expect(byHeader.status).toBe(200);
  });

  it("refuses with the 403 page (missing, foreign origin, wrong token) and never runs the handler", async () => {
    const url = await listen(app());
    const client = fetchBrowser(url);
    const token = (await client.request("/form")).text;
    for (const [reason, headers, body] of [
      ["missing-token", form, "note=hi"],
      ["origin-mismatch", { ...form, origin: "https://evil.example" }, `csrf_token=${token}`],
      ["invalid-token", form, "csrf_token=forged"],
    ] as const) {
      const refused = await client.request("/submit", { method: "POST", headers, body });
      expect(refused.status).toBe(403);
      expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
      expect(refused.text).toContain(`CSRF check failed: ${reason}`);
    }
  });

  it("answers 413 for a form body over maxBodyBytes", async () => {
    const url = await listen(app({ maxBodyBytes: 1000 }));
    const client = fetchBrowser(url);
    await client.request("/form");
    const response = await client.request("/submit", {
      method: "POST",
      headers: form,
      body: `note=${"x".repeat(2000)}`,
    });
    expect(response.status).toBe(413);
  });

  it("a client that goes away mid-body is answered 400, not a 500 with a logged stack", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const csrf = app();
      let answer: ServerResponse | undefined;
      const url = new URL(
        await listen((req: IncomingMessage, res: ServerResponse) => {
          answer = res;
          return csrf(req, res);
        }),
      );
      const socket = connect(Number(url.port), "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nnote=hal",
      );
      // Let the server start reading, then close without the other 992 bytes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      const deadline = Date.now() + 5000;
      while (answer?.writableEnded !== true && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(answer?.writableEnded).toBe(true);
      expect(answer?.statusCode).toBe(400);
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });

  it("uses req.body when a body parser already read it (connect-style, in Express)", async () => {
    const server = express();
    server.use(express.urlencoded({ extended: false }));
    server.use(withSessions({ secret: SECRET }));
    server.get("/form", (req, res) => {
      res.send((req as unknown as SessionRequest).session.csrfToken());
    });
    server.use(csrfProtection());
    server.post("/submit", (req, res) => {
      res.send(`ok:${String(req.body.note)}`);
    });
    const client = fetchBrowser(await listen(server));
    const token = (await client.request("/form")).text;
    const ok = await client.request("/submit", {
      method: "POST",
      headers: form,
      body: new URLSearchParams({ csrf_token: token, note: "parsed" }).toString(),
    });
    expect([ok.status, ok.text]).toEqual([200, "ok:parsed"]);
  });
});
