/** Adapter parity for flagon/react-router: the shared suite, and the same transcript as flagon/hono. */
import { describe, expect, it } from "vitest";
import { honoHarness } from "./hono-harness.js";
import { reactRouterHarness } from "./react-router-harness.js";
import { paritySuite, transcript } from "./suite.js";

describe("parity: react-router", () => paritySuite(reactRouterHarness));

describe("parity: react-router answers as flagon/hono does", () => {
  it("records the same statuses, session headers, cookie attributes and bodies", async () => {
    const [reference, steps] = await Promise.all([transcript(honoHarness), transcript(reactRouterHarness)]);
    expect(steps).toEqual(reference);
  });
});
