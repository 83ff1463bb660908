/**
 * Adapter parity (docs/security.md §38): the same behavioural suite through flagon/express on a
 * real server, flagon/hono through app.request(), flagon/next's route() called as Next calls a
 * Route Handler (and the other adapters), then one recorded browsing session whose
 * normalised responses must be identical.
 */
import { describe, expect, it } from "vitest";
import { expressHarness } from "./express-harness.js";
import { fastifyHarness } from "./fastify-harness.js";
import { honoHarness } from "./hono-harness.js";
import { koaHarness } from "./koa-harness.js";
import { nextHarness } from "./next-harness.js";
import { nodeHarness } from "./node-harness.js";
import { paritySuite, transcript } from "./suite.js";

const harnesses = [expressHarness, honoHarness, fastifyHarness, koaHarness, nodeHarness, nextHarness];

for (const harness of harnesses) {
  describe(`parity: ${harness.name}`, () => paritySuite(harness));
}

describe("parity: every adapter answers identically", () => {
  it("records the same statuses, session headers, cookie attributes and bodies", async () => {
    const [reference, ...others] = await Promise.all(harnesses.map((harness) => transcript(harness)));
    expect(reference!.length).toBeGreaterThan(15);
    for (const [offset, steps] of others.entries()) {
      const name = harnesses[offset + 1]!.name;
      expect(steps).toHaveLength(reference!.length);
      for (let index = 0; index < reference!.length; index++) {
        expect({ adapter: name, ...steps[index] }).toEqual({ adapter: name, ...reference![index] });
      }
    }
  });
});
