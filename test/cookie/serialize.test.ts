import { describe, expect, it } from "vitest";
import { type CookieAttributes, serializeCookie } from "../../src/cookie/index.js";
import { CookieError } from "../../src/errors.js";
import { expectCookieError } from "./_helpers.js";

// Every header ends with the defaults flagon always writes.
const DEFAULTS = "; Path=/; SameSite=Lax";
const identity = (value: string) => value;

describe("serializeCookie: cases from jshttp/cookie's serialize suite", () => {
  it("writes name and value", () => {
    expect(serializeCookie("foo", "bar")).toBe("foo=bar" + DEFAULTS);
  });

  it("percent-encodes the value", () => {
    expect(serializeCookie("foo", "bar +baz")).toBe("foo=bar%20%2Bbaz" + DEFAULTS);
  });

  it("writes an empty value", () => {
    expect(serializeCookie("foo", "")).toBe("foo=" + DEFAULTS);
  });

  it.each(["foo", "foo!bar", "foo#bar", "foo$bar", "foo'bar", "foo*bar", "foo+bar", "foo-bar", "foo.bar"])(
    "accepts the token name %s",
    (name) => {
      expect(serializeCookie(name, "baz")).toBe(`${name}=baz${DEFAULTS}`);
    },
  );

  it.each(["foo^bar", "foo_bar", "foo`bar", "foo|bar", "foo~bar", "foo7bar", "FOO%bar", "foo&bar"])(
    "accepts the token name %s",
    (name) => {
      expect(serializeCookie(name, "baz")).toBe(`${name}=baz${DEFAULTS}`);
    },
  );

  // jshttp/cookie 1.x accepts these (any printable ASCII but "=" and ";"); flagon writes RFC 6265 tokens only.
  it.each(["foo,bar", "foo/bar", "foo@bar", "foo[bar", "foo]bar", "foo:bar", "foo{bar", "foo}bar"])(
    "refuses the non-token name %s (stricter than jshttp/cookie)",
    (name) => {
      expectCookieError(() => serializeCookie(name, "baz"), "ERR_COOKIE_NAME");
    },
  );

  it.each(['foo"bar', "foo<bar", "foo>bar", "foo?bar", "foo\\bar", "foo(bar", "foo)bar"])(
    "refuses the non-token name %s (stricter than jshttp/cookie)",
    (name) => {
      expectCookieError(() => serializeCookie(name, "baz"), "ERR_COOKIE_NAME");
    },
  );

  it.each(["foo\n", "foo\u280a", "foo=bar", "foo;bar", "foo bar", "foo\tbar", ""])(
    "refuses the name %j",
    (name) => {
      expectCookieError(() => serializeCookie(name, "bar"), "ERR_COOKIE_NAME");
    },
  );

  describe("domain", () => {
    it.each([
      "example.com",
      "sub.example.com",
      ".example.com",
      "localhost",
      ".localhost",
      "my-site.org",
      "EXAMPLE.com",
    ])("writes Domain=%s", (domain) => {
      expect(serializeCookie("foo", "bar", { domain })).toBe(`foo=bar; Domain=${domain}${DEFAULTS}`);
    });

    it.each([
      "example.com\n",
      "sub.example.com\u0000",
      "my site.org",
      "domain..com",
      "example.com; Path=/",
      "example.com /* inject a comment */",
      "-example.com",
      "example-.com",
      "",
      `${"a".repeat(64)}.com`,
    ])("refuses the domain %j", (domain) => {
      expectCookieError(() => serializeCookie("foo", "bar", { domain }), "ERR_COOKIE_DOMAIN");
    });
  });

  describe("encode", () => {
    it("uses a custom encoder", () => {
      const base64 = (value: string) => Buffer.from(value, "utf8").toString("base64");
      expect(serializeCookie("foo", "bar", { encode: base64 })).toBe("foo=YmFy" + DEFAULTS);
    });

    it("runs the encoder on an empty value too", () => {
      expect(serializeCookie("foo", "", { encode: (value) => `[${value}]` })).toBe("foo=[]" + DEFAULTS);
    });

    it.each(["foo=bar", "foo$bar", '"quoted"', "YmFyYg=="])("accepts the cookie-value %s", (value) => {
      expect(serializeCookie("foo", value, { encode: identity })).toBe(`foo=${value}${DEFAULTS}`);
    });

    // jshttp/cookie accepts '"', "," and "\" anywhere; RFC 6265 cookie-octet excludes them (a pair of DQUOTEs may
    // only wrap the whole value).
    it.each([
      "+\n",
      "foo bar",
      "foo\tbar",
      "foo;bar",
      "foo\u280a",
      'foo"bar',
      "foo,bar",
      "foo\\bar",
      '"open',
    ])("refuses the encoded value %j", (value) => {
      expectCookieError(() => serializeCookie("foo", value, { encode: identity }), "ERR_COOKIE_VALUE");
    });
  });

  describe("expires", () => {
    it("refuses an invalid date", () => {
      expectCookieError(
        () => serializeCookie("foo", "bar", { expires: new Date(Number.NaN) }),
        "ERR_COOKIE_EXPIRES",
      );
    });

    it("writes the date in IMF-fixdate form", () => {
      const expires = new Date(Date.UTC(2000, 11, 24, 10, 30, 59, 900));
      expect(serializeCookie("foo", "bar", { expires })).toBe(
        "foo=bar; Expires=Sun, 24 Dec 2000 10:30:59 GMT" + DEFAULTS,
      );
    });
  });

  describe("flags", () => {
    it.each<[string, CookieAttributes, string]>([
      ["httpOnly: true", { httpOnly: true }, "; Path=/; HttpOnly; SameSite=Lax"],
      ["httpOnly: false", { httpOnly: false }, DEFAULTS],
      ["secure: true", { secure: true }, "; Path=/; Secure; SameSite=Lax"],
      ["secure: false", { secure: false }, DEFAULTS],
      // jshttp/cookie writes a bare Partitioned; flagon requires Secure with it (CHIPS).
      [
        "partitioned: true",
        { partitioned: true, secure: true },
        "; Path=/; Secure; Partitioned; SameSite=Lax",
      ],
      ["partitioned: false", { partitioned: false }, DEFAULTS],
      ["no flags", {}, DEFAULTS],
    ])("%s", (_what, attributes, tail) => {
      expect(serializeCookie("foo", "bar", attributes)).toBe("foo=bar" + tail);
    });
  });

  describe("maxAge", () => {
    it.each([["buzz"], [Number.POSITIVE_INFINITY], [3.14]])("refuses %j", (maxAge) => {
      expectCookieError(
        () => serializeCookie("foo", "bar", { maxAge: maxAge as number }),
        "ERR_COOKIE_MAX_AGE",
      );
    });

    it.each([
      [1000, "; Max-Age=1000"],
      [0, "; Max-Age=0"],
      [undefined, ""],
    ])("maxAge %j writes %j", (maxAge, attribute) => {
      expect(serializeCookie("foo", "bar", { maxAge })).toBe("foo=bar" + attribute + DEFAULTS);
    });
  });

  describe("path", () => {
    it.each(["/", "/login", "/foo.bar/baz", "/foo-bar", "/../foo/bar", "/a%20b/", "/~user/@me:1,2"])(
      "writes Path=%s",
      (path) => {
        expect(serializeCookie("foo", "bar", { path })).toBe(`foo=bar; Path=${path}; SameSite=Lax`);
      },
    );

    // The first four are valid in jshttp/cookie; browsers ignore a Path that does not start with "/", and "=",
    // '"' and "?" cannot appear in the path of a request URL.
    it.each(["/foo=bar?baz", '/foo"bar"', "../foo/", "./"])(
      "refuses %j (stricter than jshttp/cookie)",
      (path) => {
        expectCookieError(() => serializeCookie("foo", "bar", { path }), "ERR_COOKIE_PATH");
      },
    );

    it.each([
      "/\n",
      "/foo\u0000",
      "/path/with\rnewline",
      "/; Path=/sensitive-data",
      '/login"><script>alert(1)</script>',
    ])("refuses %j", (path) => {
      expectCookieError(() => serializeCookie("foo", "bar", { path }), "ERR_COOKIE_PATH");
    });

    it("refuses a path over 1024 bytes (RFC 6265bis §5.6)", () => {
      expect(serializeCookie("foo", "bar", { path: "/" + "a".repeat(1023) })).toContain("; Path=/aaa");
      expectCookieError(
        () => serializeCookie("foo", "bar", { path: "/" + "a".repeat(1024) }),
        "ERR_COOKIE_PATH",
      );
    });
  });

  describe("priority", () => {
    it.each([["foo"], [42], [""]])("refuses %j", (priority) => {
      expectCookieError(
        () => serializeCookie("foo", "bar", { priority: priority as CookieAttributes["priority"] }),
        "ERR_COOKIE_PRIORITY",
      );
    });

    it.each([
      ["low", "Low"],
      ["medium", "Medium"],
      ["high", "High"],
      ["High", "High"],
    ])("priority %s writes Priority=%s", (priority, text) => {
      expect(serializeCookie("foo", "bar", { priority: priority as CookieAttributes["priority"] })).toBe(
        `foo=bar; Path=/; Priority=${text}; SameSite=Lax`,
      );
    });
  });

  describe("sameSite", () => {
    // jshttp/cookie maps true to Strict and false to "no attribute"; flagon always writes SameSite and wants a name.
    it.each([["foo"], [true], [false], [""]])("refuses %j", (sameSite) => {
      expectCookieError(
        () => serializeCookie("foo", "bar", { sameSite: sameSite as CookieAttributes["sameSite"] }),
        "ERR_COOKIE_SAMESITE",
      );
    });

    it.each<[string, CookieAttributes, string]>([
      ["strict", { sameSite: "strict" }, "foo=bar; Path=/; SameSite=Strict"],
      ["lax", { sameSite: "lax" }, "foo=bar; Path=/; SameSite=Lax"],
      ["none (with secure)", { sameSite: "none", secure: true }, "foo=bar; Path=/; Secure; SameSite=None"],
      ["Lax, any case", { sameSite: "Lax" as CookieAttributes["sameSite"] }, "foo=bar; Path=/; SameSite=Lax"],
      [
        "STRICT, any case",
        { sameSite: "STRICT" as CookieAttributes["sameSite"] },
        "foo=bar; Path=/; SameSite=Strict",
      ],
    ])("%s", (_what, attributes, header) => {
      expect(serializeCookie("foo", "bar", attributes)).toBe(header);
    });
  });
});

describe("serializeCookie: flagon's contract", () => {
  it("writes every attribute in a fixed order", () => {
    const header = serializeCookie("__Secure-id", "a b", {
      maxAge: 60,
      expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
      domain: "example.com",
      path: "/app",
      httpOnly: true,
      secure: true,
      partitioned: true,
      priority: "high",
      sameSite: "strict",
    });
    expect(header).toBe(
      "__Secure-id=a%20b; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; Path=/app; " +
        "HttpOnly; Secure; Partitioned; Priority=High; SameSite=Strict",
    );
  });

  it("treats undefined and null attributes as none", () => {
    expect(serializeCookie("a", "b", undefined)).toBe("a=b" + DEFAULTS);
    expect(serializeCookie("a", "b", null as unknown as CookieAttributes)).toBe("a=b" + DEFAULTS);
  });

  it.each([["a string"], [42]])("refuses attributes that are %s", (attributes) => {
    expectCookieError(
      () => serializeCookie("a", "b", attributes as unknown as CookieAttributes),
      "ERR_INVALID_OPTION",
    );
  });

  it.each(["secure", "httpOnly", "partitioned"] as const)("refuses a non-boolean %s", (flag) => {
    expectCookieError(
      () => serializeCookie("a", "b", { [flag]: "false" } as CookieAttributes),
      "ERR_INVALID_OPTION",
    );
  });

  it("refuses a non-string value", () => {
    expectCookieError(() => serializeCookie("a", 42 as unknown as string), "ERR_COOKIE_VALUE");
  });

  it("refuses a value with a lone surrogate (encodeURIComponent cannot encode it)", () => {
    const error = expectCookieError(() => serializeCookie("a", "x\ud800y"), "ERR_COOKIE_VALUE");
    expect(error.cause).toBeInstanceOf(URIError);
  });

  it("wraps an encoder that throws, and refuses one that returns a non-string", () => {
    const failure = new Error("boom");
    const error = expectCookieError(
      () =>
        serializeCookie("a", "b", {
          encode: () => {
            throw failure;
          },
        }),
      "ERR_COOKIE_VALUE",
    );
    expect(error.cause).toBe(failure);
    expectCookieError(
      () => serializeCookie("a", "b", { encode: (() => 1) as unknown as (value: string) => string }),
      "ERR_COOKIE_VALUE",
    );
    expectCookieError(
      () => serializeCookie("a", "b", { encode: "yes" as unknown as (value: string) => string }),
      "ERR_INVALID_OPTION",
    );
  });

  it.each<[string, unknown]>([
    ["year 1600", new Date(Date.UTC(1600, 11, 31))],
    ["year 10000", new Date(Date.UTC(10000, 0, 1))],
    ["a date string", "Wed, 02 Jan 2030 03:04:05 GMT"],
    ["a timestamp", 1_900_000_000_000],
    ["a Date look-alike", { getTime: () => 0, toUTCString: () => "Thu, 01 Jan 1970 00:00:00 GMT" }],
  ])("refuses expires as %s", (_what, expires) => {
    expectCookieError(() => serializeCookie("a", "b", { expires: expires as Date }), "ERR_COOKIE_EXPIRES");
  });

  it("formats a Date subclass from its time value, not its own toUTCString", () => {
    class SneakyDate extends Date {
      override toUTCString(): string {
        return "Thu, 01 Jan 1970 00:00:00 GMT; Domain=evil.example";
      }
    }
    const header = serializeCookie("a", "b", { expires: new SneakyDate(Date.UTC(2030, 0, 1)) });
    expect(header).toBe("a=b; Expires=Tue, 01 Jan 2030 00:00:00 GMT" + DEFAULTS);
  });

  it("never puts the name, value or attribute values in error messages", () => {
    const secret = "s3cr3t-session-value";
    const errors = [
      expectCookieError(() => serializeCookie(`${secret};`, "v"), "ERR_COOKIE_NAME"),
      expectCookieError(() => serializeCookie("n", `${secret};`, { encode: identity }), "ERR_COOKIE_VALUE"),
      expectCookieError(() => serializeCookie("n", secret.repeat(300)), "ERR_COOKIE_TOO_LARGE"),
      expectCookieError(() => serializeCookie("n", "v", { domain: `${secret};` }), "ERR_COOKIE_DOMAIN"),
      expectCookieError(() => serializeCookie("n", "v", { path: `/${secret};` }), "ERR_COOKIE_PATH"),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(CookieError);
      expect(error.message).not.toContain(secret);
    }
  });
});
