/**
 * `TRUST_PROXY`, read once for both lesson apps, meaning exactly what Express's `trust proxy`
 * setting means: `true` / `false`, a number of hops (`1`: the proxy in front of the app), or a
 * comma-separated list of addresses and subnets (`loopback, 10.0.0.0/8`). Express gets the parsed
 * value (`app.set("trust proxy", …)`); the Hono app asks `forwardedRequest()` below, which applies
 * the same rules with the same library Express uses (proxy-addr).
 */
import { ConfigError } from "flagon";
import proxyAddr from "proxy-addr";

/** A parsed `TRUST_PROXY`: what `app.set("trust proxy", value)` accepts. */
export type TrustProxy = boolean | number | string[];

/** Decides whether the hop at `address`, `hop` steps from the app (0: the socket's peer), is trusted. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * Reads `TRUST_PROXY`. Unset or empty: `false` (the socket's peer is the client). Throws a
 * `ConfigError` for an address or subnet proxy-addr cannot read, at start-up rather than on the
 * first request.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? "").trim();
  if (text === "" || /^false$/i.test(text)) return false;
  if (/^true$/i.test(text)) return true;
  if (/^\d+$/.test(text)) return Number(text);
  const list = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  try {
    proxyAddr.compile(list);
  } catch (error) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `TRUST_PROXY must be true, false, a number of proxy hops or a comma-separated list of addresses and subnets (loopback, 10.0.0.0/8); ${(error as Error).message}`,
    );
  }
  return list;
}

/** Express's `compileTrust`: the trust function a `trust proxy` value stands for. */
export function compileTrust(trust: TrustProxy): TrustFunction {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === "number") return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

/** What a request says about itself once the trusted proxies in front of the app are accounted for. */
export interface ForwardedRequest {
  /** Express's `req.protocol`: X-Forwarded-Proto counts only when the socket's peer is trusted. */
  protocol: string;
  /** Express's `req.ip`: the first untrusted address walking X-Forwarded-For back from the socket. */
  ip: string;
}

/**
 * `req.protocol` and `req.ip` as Express computes them, for a server without Express.
 * `socketProtocol` is "https" when the app itself terminates TLS.
 */
export function forwardedRequest(
  trust: TrustFunction,
  request: {
    remoteAddress: string | undefined;
    socketProtocol: string;
    forwardedFor: string | undefined;
    forwardedProto: string | undefined;
  },
): ForwardedRequest {
  const remoteAddress = request.remoteAddress ?? "";
  let protocol = request.socketProtocol;
  if (trust(remoteAddress, 0)) {
    const header = request.forwardedProto ?? protocol;
    protocol = header.split(",", 1)[0]!.trim();
  }
  const ip = proxyAddr(
    // proxy-addr reads only these two fields of the request.
    {
      socket: { remoteAddress },
      connection: { remoteAddress },
      headers: { "x-forwarded-for": request.forwardedFor },
    } as never,
    trust,
  );
  return { protocol, ip };
}
