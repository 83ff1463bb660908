import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Vectors made with real Flask 2.2.2 (test/fixtures/flask/README.md says how and what each field means). */
export const VECTORS_PATH = fileURLToPath(
  new URL("../fixtures/flask/flask-session-cookies.json", import.meta.url),
);

export interface FlaskVector {
  id: string;
  category: string;
  secret_key: string;
  fallback_keys: string[];
  cookie: string;
  valid: boolean;
  expected_session: unknown;
  source_session?: unknown;
  flask_outcome: "session" | "empty_session" | "server_error";
  now: number;
  max_age: number;
  timestamp: number | null;
  payload_json: string | null;
  compressed: boolean;
  minted_by: "flask" | "key-holder" | "tampered" | "n/a";
  tags: string[];
}

export const vectorsText = readFileSync(VECTORS_PATH, "utf8");
export const vectors: FlaskVector[] = (JSON.parse(vectorsText) as { vectors: FlaskVector[] }).vectors;
