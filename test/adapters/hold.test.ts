import { once } from "node:events";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { holdResponse } from "../../src/adapters/kit/hold.js";
import type { CommitPlan } from "../../src/session/plan.js";

/**
 * The hold, driven by commit functions that resolve with the session headers (the test controls when):
 * `commitSync` answers at once (no store write), `commit` is the write the hold must wait for.
 */
function holdWith(
  res: ServerResponse,
  options: {
    commit: () => Promise<Headers>;
    commitSync?: () => Headers | undefined;
    onError: (error: unknown) => void;
  },
): void {
  holdResponse(res, {
    prepare: () => {
      const now = options.commitSync?.();
      let headers = now ?? new Headers();
      const plan: CommitPlan = {
        write:
          now === undefined
            ? async () => {
                headers = await options.commit();
              }
            : undefined,
        cookieName: "sid",
        // Read when the plan is applied, after the write has resolved.
        get setCookie() {
          return headers.getSetCookie()[0];
        },
        get vary() {
          return headers.get("vary") !== null;
        },
        get cacheControl() {
          return headers.get("cache-control") ?? undefined;
        },
      };
      return plan;
    },
    onError: options.onError,
  });
}

/** A commit whose completion the test controls. */
function deferredCommit(headers: Headers = new Headers()) {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  let called!: () => void;
  const gate = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const calledPromise = new Promise<void>((res) => {
    called = res;
  });
  let calls = 0;
  return {
    commit: async () => {
      calls += 1;
      called();
      await gate;
      return headers;
    },
    resolve,
    reject,
    called: calledPromise,
    get calls() {
      return calls;
    },
  };
}

interface Reply {
  status: number;
  statusMessage: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listenApp(app: express.Express): Promise<string> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(url: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? "",
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Lets pending I/O callbacks run (no timers): enough for bytes to leave if nothing holds them. */
async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

const sessionHeaders = () => {
  const headers = new Headers();
  headers.append("Set-Cookie", "sid=abc; Path=/; HttpOnly; SameSite=Lax");
  headers.set("Vary", "Cookie");
  headers.set("Cache-Control", "private, no-store");
  return headers;
};

function setCookies(reply: Reply): string[] {
  const out: string[] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    if (reply.rawHeaders[i]?.toLowerCase() === "set-cookie") out.push(reply.rawHeaders[i + 1] ?? "");
  }
  return out;
}

describe("holdResponse", () => {
  it("sends nothing until the commit has finished, then the commit's headers with the body", async () => {
    const gate = deferredCommit(sessionHeaders());
    let serverRes: ServerResponse | undefined;
    const url = await listen((_req, res) => {
      serverRes = res;
      holdWith(res, { commit: gate.commit, onError: (error) => res.destroy(error as Error) });
      res.statusCode = 302;
      res.setHeader("Location", "/next");
      res.end("Found");
    });
    const reply = send(url);
    await gate.called;
    await turns();
    // Nothing reached the socket, though the response counts as sent for the handler.
    expect(serverRes?.socket?.bytesWritten).toBe(0);
    expect(serverRes?.headersSent).toBe(true);
    gate.resolve();
    const { status, headers, body } = await reply;
    expect(status).toBe(302);
    expect(headers.location).toBe("/next");
    expect(headers["set-cookie"]).toEqual(["sid=abc; Path=/; HttpOnly; SameSite=Lax"]);
    expect(headers.vary).toBe("Cookie");
    expect(headers["cache-control"]).toBe("private, no-store");
    expect(body).toBe("Found");
    expect(gate.calls).toBe(1);
  });

  it("keeps duplicate headers given to writeHead as a flat array and merges Set-Cookie and Vary", async () => {
    const url = await listen((_req, res) => {
      holdWith(res, { commit: async () => sessionHeaders(), onError: () => res.destroy() });
      res.setHeader("X-Early", "replaced");
      res.writeHead(200, [
        "Set-Cookie",
        "a=1",
        "Set-Cookie",
        "b=2",
        "Vary",
        "Accept-Encoding",
        "X-Early",
        "from-writeHead",
      ]);
      res.end("ok");
    });
    const reply = await send(url);
    expect(setCookies(reply)).toEqual(["a=1", "b=2", "sid=abc; Path=/; HttpOnly; SameSite=Lax"]);
    expect(reply.headers.vary).toBe("Accept-Encoding, Cookie");
    expect(reply.headers["x-early"]).toBe("from-writeHead");
    expect(reply.body).toBe("ok");
  });

  it("accepts writeHead with [name, value] pairs, a reason phrase and an object", async () => {
    const url = await listen((req, res) => {
      holdWith(res, { commit: async () => sessionHeaders(), onError: () => res.destroy() });
      if (req.url === "/pairs") {
        res.writeHead(201, "Made It", [
          ["Set-Cookie", "a=1"],
          ["X-Pair", "yes"],
        ]);
      } else {
        res.writeHead(202, { "Set-Cookie": ["c=3", "d=4"], Vary: "Cookie", "Content-Length": 2 });
      }
      res.end("ok");
    });
    const pairs = await send(`${url}/pairs`);
    expect(pairs.status).toBe(201);
    expect(pairs.statusMessage).toBe("Made It");
    expect(pairs.headers["x-pair"]).toBe("yes");
    expect(setCookies(pairs)).toEqual(["a=1", "sid=abc; Path=/; HttpOnly; SameSite=Lax"]);
    const object = await send(`${url}/object`);
    expect(object.status).toBe(202);
    expect(setCookies(object)).toEqual(["c=3", "d=4", "sid=abc; Path=/; HttpOnly; SameSite=Lax"]);
    expect(object.headers.vary).toBe("Cookie");
    expect(object.body).toBe("ok");
  });

  it("throws in the handler, like node, for a bad status, a second writeHead or a bad chunk", async () => {
    const outcomes: string[] = [];
    const url = await listen((_req, res) => {
      holdWith(res, { commit: async () => new Headers(), onError: () => res.destroy() });
      for (const action of [
        () => res.writeHead(42),
        () => res.write(42 as unknown as string),
        () => res.end({} as unknown as string),
      ]) {
        try {
          action();
          outcomes.push("ok");
        } catch {
          outcomes.push("threw");
        }
      }
      res.writeHead(200);
      try {
        res.writeHead(201);
        outcomes.push("ok");
      } catch {
        outcomes.push("threw");
      }
      res.end("done");
    });
    const reply = await send(url);
    expect(outcomes).toEqual(["threw", "threw", "threw", "threw"]);
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("done");
  });

  it("streams: writes made while holding are replayed in order, 'drain' lets the writer go on", async () => {
    const gate = deferredCommit(sessionHeaders());
    const returns: boolean[] = [];
    const url = await listen((_req, res) => {
      holdWith(res, { commit: gate.commit, onError: () => res.destroy() });
      res.setHeader("Content-Type", "text/plain");
      returns.push(res.write("one,"));
      returns.push(res.write(Buffer.from("two,")));
      res.once("drain", () => {
        returns.push(res.write("three,"));
        res.end("four");
      });
    });
    const reply = send(url);
    await gate.called;
    gate.resolve();
    const { body, headers } = await reply;
    expect(body).toBe("one,two,three,four");
    expect(headers["set-cookie"]).toHaveLength(1);
    expect(headers["transfer-encoding"]).toBe("chunked");
    expect(returns).toEqual([false, false, true]);
  });

  it("streams a piped Readable of many chunks completely", async () => {
    const chunks = Array.from({ length: 2000 }, (_, i) => `chunk-${i};`);
    const url = await listen((_req, res) => {
      holdWith(res, { commit: async () => sessionHeaders(), onError: () => res.destroy() });
      Readable.from(chunks).pipe(res);
    });
    const reply = await send(url);
    expect(reply.body).toBe(chunks.join(""));
    expect(reply.headers["set-cookie"]).toHaveLength(1);
  });

  it("holds flushHeaders too", async () => {
    const gate = deferredCommit(sessionHeaders());
    let serverRes: ServerResponse | undefined;
    const url = await listen((_req, res) => {
      serverRes = res;
      holdWith(res, { commit: gate.commit, onError: () => res.destroy() });
      res.flushHeaders();
      res.end("late");
    });
    const reply = send(url);
    await gate.called;
    await turns();
    expect(serverRes?.socket?.bytesWritten).toBe(0);
    gate.resolve();
    expect((await reply).headers["set-cookie"]).toHaveLength(1);
  });

  it("answers HEAD with the headers and no body", async () => {
    const url = await listen((_req, res) => {
      holdWith(res, { commit: async () => sessionHeaders(), onError: () => res.destroy() });
      res.setHeader("Content-Type", "text/html");
      res.end("<p>body</p>");
    });
    const reply = await send(url, "HEAD");
    expect(reply.status).toBe(200);
    expect(reply.headers["set-cookie"]).toHaveLength(1);
    expect(reply.body).toBe("");
  });

  it("on commit failure drops the held response and its headers, and lets onError answer", async () => {
    const gate = deferredCommit();
    const errors: unknown[] = [];
    const url = await listen((_req, res) => {
      holdWith(res, {
        commit: gate.commit,
        onError: (error) => {
          errors.push(error);
          res.statusCode = 503;
          res.end("Service Unavailable");
          // The abandoned handler writing on after the error response is dropped, not thrown.
          res.write("late write");
          res.end("late end");
        },
      });
      res.setHeader("Set-Cookie", "auth=should-not-leak");
      res.writeHead(200, { "X-Handler": "1" });
      res.write("partial");
      res.end("response");
    });
    const reply = send(url);
    await gate.called;
    const failure = new Error("store down");
    gate.reject(failure);
    const { status, headers, body } = await reply;
    expect(status).toBe(503);
    expect(body).toBe("Service Unavailable");
    expect(headers["set-cookie"]).toBeUndefined();
    expect(headers["x-handler"]).toBeUndefined();
    expect(errors).toEqual([failure]);
  });

  it("works with methods patched before it and after it (express-session's prior/after cases)", async () => {
    const seen: string[] = [];
    const url = await listen((_req, res) => {
      const priorEnd = res.end;
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        seen.push(`prior end, headers ${this.getHeader("set-cookie") === undefined ? "absent" : "present"}`);
        return Reflect.apply(priorEnd, this, args);
      } as ServerResponse["end"];
      holdWith(res, { commit: async () => sessionHeaders(), onError: () => res.destroy() });
      const heldEnd = res.end;
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        seen.push("after end");
        return Reflect.apply(heldEnd, this, args);
      } as ServerResponse["end"];
      res.end("patched");
    });
    const reply = await send(url);
    expect(reply.body).toBe("patched");
    expect(reply.headers["set-cookie"]).toHaveLength(1);
    expect(seen).toEqual(["after end", "prior end, headers present"]);
  });

  it("behaves as sent while held: headersSent, header changes throw, later status and ends are ignored", async () => {
    const gate = deferredCommit(sessionHeaders());
    const seen: Record<string, unknown> = {};
    const url = await listen((_req, res) => {
      holdWith(res, { commit: gate.commit, onError: () => res.destroy() });
      seen.before = res.headersSent;
      res.statusCode = 201;
      res.end("first");
      seen.after = res.headersSent;
      try {
        res.setHeader("Content-Length", "999");
      } catch (error) {
        seen.setHeader = (error as { code?: string }).code;
      }
      try {
        res.removeHeader("Content-Type");
      } catch (error) {
        seen.removeHeader = (error as { code?: string }).code;
      }
      res.statusCode = 500;
      res.end("second");
      res.write("third");
    });
    const reply = send(url);
    await gate.called;
    gate.resolve();
    const { status, body, headers } = await reply;
    expect(seen).toEqual({
      before: false,
      after: true,
      setHeader: "ERR_HTTP_HEADERS_SENT",
      removeHeader: "ERR_HTTP_HEADERS_SENT",
    });
    expect(status).toBe(201);
    expect(body).toBe("first");
    expect(headers["content-length"]).toBe("5");
  });

  it("a throwing onError destroys the response instead of an unhandled rejection", async () => {
    const url = await listen((_req, res) => {
      holdWith(res, {
        commit: async () => {
          throw new Error("store down");
        },
        onError: () => {
          throw new Error("error handler broken");
        },
      });
      res.end("never sent");
    });
    await expect(send(url)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it("commits once per response, whatever the handler calls after the first write", async () => {
    let commits = 0;
    const url = await listen((_req, res) => {
      holdWith(res, {
        commit: async () => {
          commits += 1;
          return sessionHeaders();
        },
        onError: () => res.destroy(),
      });
      res.write("a");
      setImmediate(() => {
        res.write("b");
        res.end("c");
      });
    });
    const reply = await send(url);
    expect(reply.body).toBe("abc");
    expect(commits).toBe(1);
  });

  describe("with express", () => {
    const errors: Error[] = [];
    function appWith(commit: () => Promise<Headers>): express.Express {
      const app = express();
      app.use((_req, res, next) => {
        holdWith(res, { commit, onError: (error) => next(error) });
        next();
      });
      app.get("/redirect", (_req, res) => res.redirect("/target"));
      app.get("/json", (_req, res) => {
        res.json({ ok: true });
      });
      app.get("/throws", () => {
        throw new Error("handler failed");
      });
      app.get("/twice", (_req, res) => {
        res.send("first");
        res.send("second"); // an app bug: throws ERR_HTTP_HEADERS_SENT here, as without flagon
      });
      app.get("/stream", (_req, res) => {
        res.type("text");
        res.write("s1,");
        res.write("s2,");
        res.end("s3");
      });
      app.use((error: Error, _req: express.Request, res: express.Response, next: express.NextFunction) => {
        errors.push(error);
        if (res.headersSent) {
          next(error);
          return;
        }
        res.status(error.message === "store down" ? 503 : 500).send(`error: ${error.message}`);
      });
      return app;
    }

    it("res.redirect, res.json and streaming carry the commit's headers", async () => {
      const url = await listenApp(appWith(async () => sessionHeaders()));
      const redirect = await send(`${url}/redirect`);
      expect(redirect.status).toBe(302);
      expect(redirect.headers.location).toBe("/target");
      expect(redirect.headers["set-cookie"]).toEqual(["sid=abc; Path=/; HttpOnly; SameSite=Lax"]);
      const json = await send(`${url}/json`);
      expect(JSON.parse(json.body)).toEqual({ ok: true });
      expect(json.headers.vary).toBe("Cookie");
      const stream = await send(`${url}/stream`);
      expect(stream.body).toBe("s1,s2,s3");
      expect(stream.headers["set-cookie"]).toHaveLength(1);
    });

    it("a handler that throws gets its error page, committed like any response", async () => {
      let commits = 0;
      const url = await listenApp(
        appWith(async () => {
          commits += 1;
          return sessionHeaders();
        }),
      );
      const reply = await send(`${url}/throws`);
      expect(reply.status).toBe(500);
      expect(reply.body).toBe("error: handler failed");
      expect(reply.headers["set-cookie"]).toHaveLength(1);
      expect(commits).toBe(1);
    });

    it("a double res.send fails in the handler, as without flagon, and the app keeps serving", async () => {
      const url = await listenApp(appWith(async () => sessionHeaders()));
      errors.length = 0;
      // Express hands the error to finalhandler, which drops the connection of a sent response.
      await send(`${url}/twice`).then(
        (reply) => expect(reply.body).toBe("first"),
        (error: Error) => expect(error.message).toMatch(/socket hang up|ECONNRESET/),
      );
      expect(errors.map((error) => (error as Error & { code?: string }).code)).toEqual([
        "ERR_HTTP_HEADERS_SENT",
      ]);
      expect((await send(`${url}/json`)).body).toBe('{"ok":true}');
    });

    it("a failed commit reaches Express's error handler with headers still unsent", async () => {
      let failures = 1;
      const url = await listenApp(
        appWith(async () => {
          if (failures-- > 0) throw new Error("store down");
          return sessionHeaders();
        }),
      );
      const reply = await send(`${url}/redirect`);
      expect(reply.status).toBe(503);
      expect(reply.body).toBe("error: store down");
      expect(reply.headers.location).toBeUndefined();
      expect(reply.headers["set-cookie"]).toBeUndefined();
      // The process keeps serving: the next request is answered normally.
      const stream = await send(`${url}/stream`);
      expect(stream.status).toBe(200);
      expect(stream.body).toBe("s1,s2,s3");
    });
  });
});

describe("fast path: a commit that needs no store I/O holds nothing", () => {
  function syncHeaders(): Headers {
    const headers = new Headers();
    headers.append("set-cookie", "sid=fast; Path=/; HttpOnly; SameSite=Lax");
    headers.set("vary", "Cookie");
    return headers;
  }

  it("ends the response synchronously with the session headers, keeping a redirect's status", async () => {
    let endedSynchronously = false;
    let asyncCommits = 0;
    const app = express();
    app.get("/", (_req, res) => {
      holdWith(res, {
        commit: async () => {
          asyncCommits += 1;
          return new Headers();
        },
        commitSync: syncHeaders,
        onError: () => {},
      });
      res.redirect(302, "/next");
      endedSynchronously = res.writableEnded;
    });
    const reply = await send(await listenApp(app));
    expect(endedSynchronously).toBe(true);
    expect(asyncCommits).toBe(0);
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe("/next");
    expect(reply.headers["set-cookie"]).toEqual(["sid=fast; Path=/; HttpOnly; SameSite=Lax"]);
    expect(reply.headers.vary).toMatch(/Cookie/);
  });

  it("falls back to holding when commitSync answers undefined (a store write is due)", async () => {
    const commit = deferredCommit(syncHeaders());
    let endedSynchronously = true;
    const url = await listen((_req, res) => {
      holdWith(res, { commit: commit.commit, commitSync: () => undefined, onError: () => {} });
      res.end("held");
      endedSynchronously = res.writableEnded;
    });
    const pending = send(url);
    await commit.called;
    expect(endedSynchronously).toBe(false);
    commit.resolve();
    const reply = await pending;
    expect(reply.body).toBe("held");
    expect(reply.headers["set-cookie"]).toEqual(["sid=fast; Path=/; HttpOnly; SameSite=Lax"]);
  });

  it("a commitSync that throws (cookie too large) reaches onError and sends no partial response", async () => {
    const errors: unknown[] = [];
    const url = await listen((_req, res) => {
      holdWith(res, {
        commit: async () => new Headers(),
        commitSync: () => {
          throw new Error("too large");
        },
        onError: (error) => {
          errors.push(error);
          res.statusCode = 500;
          res.end("error page");
        },
      });
      res.setHeader("x-handler", "1");
      res.end("handler body");
    });
    const reply = await send(url);
    expect(errors).toHaveLength(1);
    expect(reply.status).toBe(500);
    expect(reply.body).toBe("error page");
    expect(reply.headers["x-handler"]).toBeUndefined();
  });
});
