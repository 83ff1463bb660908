export type { CheckOptions, IssueOptions, Verified } from "./claims.js";
export { CLOCK_SKEW_MS } from "./claims.js";
export { Keyring, MIN_SECRET_BYTES } from "./keyring.js";
export { randomBytesPooled, randomToken } from "./random.js";
export { createSealer, type Sealer } from "./sealer.js";
export { createSigner, type Signer } from "./signer.js";
