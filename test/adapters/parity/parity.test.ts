/**
 * Adapter parity (docs/security.md §38): the same behavioural suite through flagon/express on a
 * real server and flagon/hono through app.request(), then one recorded browsing session whose
 * normalised responses must be identical.
 */
import { describe, expect, it } from "vitest";
import { expressHarness } from "./express-harness.js";
import { honoHarness } from "./hono-harness.js";
import { paritySuite, transcript } from "./suite.js";

for (const harness of [expressHarness, honoHarness]) {
  describe(`parity: ${harness.name}`, () => paritySuite(harness));
}

describe("parity: express and hono answer identically", () => {
  it("records the same statuses, session headers, cookie attributes and bodies", async () => {
    const [express, hono] = await Promise.all([transcript(expressHarness), transcript(honoHarness)]);
    expect(express.length).toBeGreaterThan(15);
    for (let index = 0; index < express.length; index++) {
      expect({ adapter: "express", ...express[index] }).toEqual({ adapter: "express", ...hono[index] });
    }
    expect(express).toEqual(hono);
  });
});
