/** The same answer as /api/static without flagon: the baseline of the request-cost benchmark (bench/next.ts). */
export const GET = () => Response.json({ static: true });
