/** Cloudflare Workers entry (bundled for workerd): answers every request with the check as JSON. */
import { runtimeCheck } from "./check.js";

export default {
  async fetch(): Promise<Response> {
    const results = await runtimeCheck();
    const ok = Object.values(results).every((result) => result === true);
    return Response.json(results, { status: ok ? 200 : 500 });
  },
};
