export type { CheckOptions, CheckResult, IssueOptions, RejectReason, Verified } from "./claims.js";
export { CLOCK_SKEW_MS } from "./claims.js";
export { Keyring, MIN_SECRET_BYTES } from "./keyring.js";
export { randomBytesPooled, randomToken } from "./random.js";
export { createSealer, looksSealed, type Sealer } from "./sealer.js";
export { createSigner, peekSigned, type Signer } from "./signer.js";
