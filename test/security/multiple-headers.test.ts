// docs/security.md §30: several Cookie header fields, as HTTP/2 clients send them (RFC 6265bis §4.2.1:
// servers MUST be tolerant of multiple cookie headers; RFC 9113 §8.2.3 lets clients split the field).
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CookieJar, parseCookies } from "../../src/cookie/index.js";

const servers: Array<http.Server | http2.Http2Server> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The values of every raw header field called `name` (Node keeps them apart in rawHeaders). */
function rawFields(rawHeaders: readonly string[], name: string): string[] {
  const fields: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (rawHeaders[index]?.toLowerCase() === name) fields.push(rawHeaders[index + 1] ?? "");
  }
  return fields;
}

interface Seen {
  fields: string[];
  fromFields: Record<string, string>;
  fromJoined: Record<string, string>;
}

function listen(server: http.Server | http2.Http2Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("multiple Cookie headers", () => {
  it("parses an array of fields like one joined header", () => {
    expect({ ...parseCookies(["a=1", "sid=abc"]) }).toEqual({ a: "1", sid: "abc" });
    expect(new CookieJar(["a=1", "sid=abc"]).get("sid")).toBe("abc");
  });

  it("reads Fetch Headers built with append() (how Hono sees split fields)", () => {
    const headers = new Headers();
    headers.append("Cookie", "a=1");
    headers.append("cookie", "sid=abc");
    expect(parseCookies(headers.get("cookie")).sid).toBe("abc");
    const request = new Request("http://127.0.0.1/", { headers });
    expect(new CookieJar(request.headers.get("cookie")).get("sid")).toBe("abc");
  });

  it("finds the cookie in two raw Cookie fields on a real node:http server", async () => {
    let seen: Seen | undefined;
    const server = http.createServer((request, response) => {
      const fields = rawFields(request.rawHeaders, "cookie");
      seen = { fields, fromFields: parseCookies(fields), fromJoined: parseCookies(request.headers.cookie) };
      response.end("ok");
    });
    const port = await listen(server);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end(
          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: a=1\r\nCookie: sid=abc; b=2\r\nConnection: close\r\n\r\n",
        );
      });
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk;
      });
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(reply.startsWith("HTTP/1.1 200")).toBe(true);
    expect(seen?.fields).toEqual(["a=1", "sid=abc; b=2"]);
    expect({ ...seen?.fromFields }).toEqual({ a: "1", sid: "abc", b: "2" });
    expect({ ...seen?.fromJoined }).toEqual({ a: "1", sid: "abc", b: "2" });
  });

  it("finds the cookie when an HTTP/2 client splits the Cookie field", async () => {
    let seen: Seen | undefined;
    const server = http2.createServer();
    server.on(
      "stream",
      (
        stream: http2.ServerHttp2Stream,
        headers: http2.IncomingHttpHeaders,
        _flags: number,
        rawHeaders: string[],
      ) => {
        const fields = rawFields(rawHeaders, "cookie");
        const joined = headers.cookie;
        seen = { fields, fromFields: parseCookies(fields), fromJoined: parseCookies(joined) };
        stream.respond({ ":status": 200 });
        stream.end("ok");
      },
    );
    const port = await listen(server);
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const request = client.request({ ":path": "/", cookie: ["a=1", "sid=abc"] });
        request.on("response", () => request.resume());
        request.on("end", resolve);
        request.on("error", reject);
        request.end();
      });
    } finally {
      client.close();
    }
    expect(seen?.fields).toEqual(["a=1", "sid=abc"]);
    expect(seen?.fromFields.sid).toBe("abc");
    expect(seen?.fromJoined.sid).toBe("abc");
  });
});
