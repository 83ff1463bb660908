/**
 * Redis Cluster key slots (Redis Cluster specification, "Keys distribution model"):
 * HASH_SLOT = CRC16(key) mod 16384, where only the first non-empty `{...}` hash tag is hashed.
 * The store uses it to ask node-redis which master serves a session, so one failed shard
 * does not make the others fail fast.
 */

/** Redis Cluster has 16384 slots (cluster spec). */
export const CLUSTER_SLOTS = 16384;

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the cluster spec prescribes.
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    table[byte] = crc & 0xffff;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc = ((crc << 8) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  }
  return crc;
}

/** The cluster slot of `key`, honouring hash tags. */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, "utf8")) % CLUSTER_SLOTS;
}
