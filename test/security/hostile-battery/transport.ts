/**
 * How the battery speaks to an app: one raw request shape, sent over a keep-alive `http.request`
 * (or, for a Content-Length that lies, a raw socket) to a real server on 127.0.0.1, or handed
 * in-process to Fastify's `inject()` / Hono's `app.request()`.
 */
import { Agent, request as httpRequest, type Server } from "node:http";
import { connect } from "node:net";

export interface RawRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  /** One entry per Cookie header field (HTTP/2-style requests send several). */
  cookies: string[];
  /** Other header fields; values are latin1 strings (one character per byte on the wire). */
  headers: Array<[string, string]>;
  body: Buffer | undefined;
  /** A Content-Length that does not match the body (undefined: the right one). */
  lyingLength: number | undefined;
}

export interface RawResponse {
  /** 0 when the server closed the connection without an answer (allowed only for a lying length). */
  status: number;
  /** Every header line, `name: value`, joined by newlines. */
  headers: string;
  body: string;
}

export interface Target {
  /** The origin a same-site form on this app sends. */
  readonly origin: string;
  send(request: RawRequest): Promise<RawResponse>;
  /** Connections and servers the target opened. */
  close(): Promise<void>;
}

const DEADLINE_MS = 15_000;

function headerObject(request: RawRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers) {
    const existing = headers[name];
    headers[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  if (request.cookies.length === 1) headers.cookie = request.cookies[0]!;
  else if (request.cookies.length > 1) headers.cookie = request.cookies;
  if (request.body !== undefined) headers["content-length"] = String(request.body.length);
  return headers;
}

/** A request whose Content-Length lies, written byte for byte on a socket of its own. */
function sendRaw(port: number, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const lines = [
      `${request.method} ${request.path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Connection: close",
    ];
    for (const cookie of request.cookies) lines.push(`Cookie: ${cookie}`);
    for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${request.lyingLength}`);
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${DEADLINE_MS} ms to a request with a lying Content-Length`));
    }, DEADLINE_MS);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const split = text.indexOf("\r\n\r\n");
      resolve({
        status: status === undefined ? 0 : Number(status),
        headers: split < 0 ? text : text.slice(0, split),
        body: split < 0 ? "" : text.slice(split + 4),
      });
    });
    socket.write(Buffer.concat([head, request.body ?? Buffer.alloc(0)]));
    // Half-close: a server waiting for the bytes the length promised sees the end instead.
    socket.end();
  });
}

/** A real server on 127.0.0.1, spoken to over keep-alive connections. */
export function listeningTarget(server: Server, port: number): Target {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  return {
    origin: `http://127.0.0.1:${port}`,
    send(request) {
      if (request.lyingLength !== undefined) return sendRaw(port, request);
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            agent,
            host: "127.0.0.1",
            port,
            method: request.method,
            path: request.path,
            headers: headerObject(request),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () => {
              const lines: string[] = [];
              for (let i = 0; i < res.rawHeaders.length; i += 2)
                lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
              resolve({
                status: res.statusCode ?? 0,
                headers: lines.join("\n"),
                body: Buffer.concat(chunks).toString("latin1"),
              });
            });
          },
        );
        req.setTimeout(DEADLINE_MS, () => req.destroy(new Error(`no answer within ${DEADLINE_MS} ms`)));
        req.on("error", reject);
        req.end(request.body);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Joins the Cookie fields as an HTTP/2 proxy would for an HTTP/1 hop (RFC 9113 §8.2.3). */
function oneCookieField(request: RawRequest): string | undefined {
  return request.cookies.length === 0 ? undefined : request.cookies.join("; ");
}

interface InjectResponse {
  statusCode: number;
  rawPayload: Buffer;
  headers: Record<string, string | string[] | number | undefined>;
}

/** Fastify's `inject()`: the request never touches a socket. */
export function injectTarget(
  inject: (options: {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: Buffer;
  }) => Promise<InjectResponse>,
  close: () => Promise<void>,
): Target {
  return {
    origin: "http://localhost",
    async send(request) {
      const headers: Record<string, string> = { host: "localhost" };
      for (const [name, value] of request.headers) {
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const cookie = oneCookieField(request);
      if (cookie !== undefined) headers.cookie = cookie;
      if (request.lyingLength !== undefined) headers["content-length"] = String(request.lyingLength);
      const response = await inject({
        method: request.method,
        url: request.path,
        headers,
        payload: request.body,
      });
      const lines = Object.entries(response.headers).flatMap(([name, value]) =>
        value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((item) => `${name}: ${item}`),
      );
      return {
        status: response.statusCode,
        headers: lines.join("\n"),
        body: response.rawPayload.toString("latin1"),
      };
    },
    close,
  };
}

/** Hono's `app.request()`: a Fetch Request answered in-process. */
export function fetchTarget(handle: (request: Request) => Response | Promise<Response>): Target {
  return {
    origin: "http://localhost",
    async send(request) {
      const headers = new Headers();
      for (const [name, value] of request.headers) headers.append(name, value);
      const cookie = oneCookieField(request);
      if (cookie !== undefined) headers.set("cookie", cookie);
      // A Fetch Request has no body for GET and HEAD, and computes its own Content-Length.
      const bodyless = request.method === "GET" || request.method === "HEAD";
      const response = await handle(
        new Request(`http://localhost${request.path}`, {
          method: request.method,
          headers,
          body: bodyless || request.body === undefined ? undefined : new Uint8Array(request.body),
        }),
      );
      const lines: string[] = [];
      response.headers.forEach((value, name) => {
        lines.push(`${name}: ${value}`);
      });
      return {
        status: response.status,
        headers: lines.join("\n"),
        body: Buffer.from(await response.arrayBuffer()).toString("latin1"),
      };
    },
    close: async () => {},
  };
}
