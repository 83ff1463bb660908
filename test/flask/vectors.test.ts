import { describe, expect, it } from "vitest";
import {
  decodeFlaskCookie,
  encodeFlaskCookie,
  fromTypedJSON,
  openFlaskCookie,
  toTypedJSON,
} from "../../src/flask/index.js";
import { parseFlaskJSON } from "../../src/flask/json.js";
import { type FlaskVector, vectors, vectorsText } from "./load-vectors.js";

const keysOf = (v: FlaskVector) => [v.secret_key, ...v.fallback_keys];
const optionsOf = (v: FlaskVector) => ({ maxAge: v.max_age, now: new Date(v.now * 1000) });

describe("test/fixtures/flask/flask-session-cookies.json", () => {
  it("holds the 98 public vectors", () => {
    expect(vectors.length).toBe(98);
    expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length);
  });

  const valid = vectors.filter((v) => v.valid);
  const invalid = vectors.filter((v) => !v.valid);

  it.each(valid.map((v) => [v.id, v] as const))("%s decodes to expected_session", (_id, v) => {
    const result = openFlaskCookie(v.cookie, keysOf(v), optionsOf(v));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(toTypedJSON(result.session)).toEqual(v.expected_session);
    expect(result.issuedAt.getTime()).toBe(v.timestamp! * 1000);
    expect(result.expiresAt.getTime()).toBe((v.timestamp! + v.max_age) * 1000);
    expect(result.compressed).toBe(v.compressed);
    expect(result.keyIndex).toBe(v.id === "pub-050-rotation-old-cookie-with-fallback" ? 1 : 0);
    expect(toTypedJSON(decodeFlaskCookie(v.cookie, keysOf(v), optionsOf(v)))).toEqual(v.expected_session);
  });

  it.each(invalid.map((v) => [v.id, v] as const))("%s is rejected", (_id, v) => {
    expect(decodeFlaskCookie(v.cookie, keysOf(v), optionsOf(v))).toBeNull();
    const result = openFlaskCookie(v.cookie, keysOf(v), optionsOf(v));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // Flask's HTTP 500 cases are exactly the correctly signed ones with a bad payload.
    expect(result.reason === "bad-payload").toBe(v.flask_outcome === "server_error");
    if (v.category === "age") expect(result.reason).toBe(v.now < v.timestamp! ? "not-yet-valid" : "expired");
  });

  // Byte-exact writing: keep Python's 1.0 vs 1 by reading the vector file with exact floats.
  const exact = (
    parseFlaskJSON(vectorsText, { tags: false, exactFloats: true }) as { vectors: FlaskVector[] }
  ).vectors;
  const minted = exact.filter((v) => v.valid && v.minted_by === "flask");

  it("has Flask-minted vectors to write", () => {
    expect(minted.length).toBeGreaterThan(50);
  });

  it.each(minted.map((v) => [v.id, v] as const))("%s is re-encoded byte for byte", (_id, v) => {
    const data = fromTypedJSON(v.source_session ?? v.expected_session) as Record<string, unknown>;
    // The cookie is signed by whichever configured key Flask used (the fallback for pub-050).
    const opened = openFlaskCookie(v.cookie, keysOf(v), optionsOf(v));
    const signingKey = opened.ok ? keysOf(v)[opened.keyIndex]! : v.secret_key;
    expect(encodeFlaskCookie(data, signingKey, { now: new Date(v.timestamp! * 1000) })).toBe(v.cookie);
  });
});
