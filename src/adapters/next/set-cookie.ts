/**
 * A `Set-Cookie` line of the commit plan, read back into the options of Next's `cookies().set()`
 * (a Server Action can only send cookies through that jar). The line was written by
 * `serializeCookie`, so only its attributes appear; anything else is ignored.
 */

/** What `(await cookies()).set(cookie)` accepts (Next's `ResponseCookie`). */
export interface NextCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "lax" | "strict" | "none";
  partitioned?: boolean;
  priority?: "low" | "medium" | "high";
}

const SAME_SITE = new Set(["lax", "strict", "none"]);
const PRIORITY = new Set(["low", "medium", "high"]);

function decodeValue(value: string): string {
  // serializeCookie percent-encodes the value; Next's jar encodes it again (encodeURIComponent).
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function parseSetCookie(line: string): NextCookie {
  const [pair = "", ...attributes] = line.split(";");
  const equals = pair.indexOf("=");
  const cookie: NextCookie = {
    name: pair.slice(0, equals).trim(),
    value: decodeValue(pair.slice(equals + 1)),
  };
  for (const attribute of attributes) {
    const at = attribute.indexOf("=");
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? "" : attribute.slice(at + 1).trim();
    if (key === "path") cookie.path = value;
    else if (key === "domain") cookie.domain = value;
    else if (key === "max-age") cookie.maxAge = Number(value);
    else if (key === "expires") cookie.expires = new Date(value);
    else if (key === "httponly") cookie.httpOnly = true;
    else if (key === "secure") cookie.secure = true;
    else if (key === "partitioned") cookie.partitioned = true;
    else if (key === "samesite" && SAME_SITE.has(value.toLowerCase())) {
      cookie.sameSite = value.toLowerCase() as NextCookie["sameSite"];
    } else if (key === "priority" && PRIORITY.has(value.toLowerCase())) {
      cookie.priority = value.toLowerCase() as NextCookie["priority"];
    }
  }
  return cookie;
}
