import { createHash } from "node:crypto";

/**
 * Lua scripts: each store operation is one EVALSHA, so Redis applies it atomically and in
 * one round trip. KEYS are always the session's three keys, which share a hash tag (one slot):
 *   KEYS[1] data   hash  field → JSON value
 *   KEYS[2] flash  list  JSON FlashMessage, oldest first
 *   KEYS[3] meta   hash  createdAt, lastSeenAt, expiresAt (ms), permanent ("1"/"0"), lc (the Lifecycle
 *                        JSON, absent before 0.2), rv ("1" once revoked: a tombstone)
 * A user's index is a set of its own (one key, its own slot): INDEX_SCRIPT.
 */
export interface LuaScript {
  readonly source: string;
  /** SHA1 of the source: the name Redis caches it under (EVALSHA), not a security hash. */
  readonly sha1: string;
}

function script(source: string): LuaScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

/**
 * Reads the record: `false` (nil) when there is no meta, else `{ meta, data, flashes }` as flat
 * arrays. Expiry is judged by the caller against Date.now(), so a faked clock works too.
 */
export const GET_SCRIPT = script(`
local meta = redis.call('HGETALL', KEYS[3])
if #meta == 0 then return false end
return { meta, redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1) }
`);

/** Index of the first variable-length argument of APPLY_SCRIPT (1-based, as Lua sees ARGV). */
export const APPLY_FIXED_ARGS = 12;

/**
 * Applies a ChangeSet in the contract's order. ARGV:
 *  1 now (ms)  2 ttl (ms, > 0)  3 clear ("1"/"0")
 *  4 createdAt  5 lastSeenAt  6 expiresAt  7 permanent ("1"/"0")
 *  8 #delete  9 #set  10 #flashConsume  11 #flashAdd  12 lifecycle JSON ("" for none)
 *  then the delete keys, the set [key, json] pairs, the consumed ids, the added flashes (JSON).
 * A record past its expiresAt (by the caller's clock) counts as absent: it is wiped first.
 * A revoked record (rv) is left as it is: a request still in flight cannot bring it back.
 */
export const APPLY_SCRIPT = script(`
local data, flashes, meta = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local createdAt = ARGV[4]
local storedExpires = redis.call('HGET', meta, 'expiresAt')
if (not storedExpires) or tonumber(storedExpires) <= now then
  redis.call('DEL', data, flashes, meta)
elseif redis.call('HGET', meta, 'rv') == '1' then
  return 0
else
  local storedCreated = redis.call('HGET', meta, 'createdAt')
  if storedCreated and tonumber(storedCreated) < tonumber(createdAt) then createdAt = storedCreated end
end
if ARGV[3] == '1' then redis.call('DEL', data) end
local i = ${APPLY_FIXED_ARGS + 1}
for _ = 1, tonumber(ARGV[8]) do
  redis.call('HDEL', data, ARGV[i])
  i = i + 1
end
for _ = 1, tonumber(ARGV[9]) do
  redis.call('HSET', data, ARGV[i], ARGV[i + 1])
  i = i + 2
end
local consumeCount = tonumber(ARGV[10])
if consumeCount > 0 then
  local consumed = {}
  for _ = 1, consumeCount do
    consumed[ARGV[i]] = true
    i = i + 1
  end
  for _, item in ipairs(redis.call('LRANGE', flashes, 0, -1)) do
    local ok, flash = pcall(cjson.decode, item)
    if ok and type(flash) == 'table' and type(flash.id) == 'string' and consumed[flash.id] then
      redis.call('LREM', flashes, 1, item)
    end
  end
end
for _ = 1, tonumber(ARGV[11]) do
  redis.call('RPUSH', flashes, ARGV[i])
  i = i + 1
end
redis.call('HSET', meta, 'createdAt', createdAt, 'lastSeenAt', ARGV[5], 'expiresAt', ARGV[6], 'permanent', ARGV[7])
if ARGV[12] ~= '' then redis.call('HSET', meta, 'lc', ARGV[12]) else redis.call('HDEL', meta, 'lc') end
redis.call('PEXPIRE', data, ARGV[2])
redis.call('PEXPIRE', flashes, ARGV[2])
redis.call('PEXPIRE', meta, ARGV[2])
return 1
`);

/**
 * Revokes a session: drops its data and flashes and marks its meta `rv`, keeping the meta (and its TTL)
 * as a tombstone. KEYS as above; ARGV[1] now (ms). Returns 1 when a live record was revoked.
 */
export const REVOKE_SCRIPT = script(`
local storedExpires = redis.call('HGET', KEYS[3], 'expiresAt')
if (not storedExpires) or tonumber(storedExpires) <= tonumber(ARGV[1]) then return 0 end
if redis.call('HGET', KEYS[3], 'rv') == '1' then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[3], 'rv', '1')
return 1
`);

/**
 * Adds a record key to a user's index set and keeps the set at least as long as that record.
 * KEYS[1] the user's set; ARGV[1] the record key, ARGV[2] its TTL (ms).
 */
export const INDEX_SCRIPT = script(`
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

/** Reads one meta hash as a flat [field, value, ...] array (what the other scripts' replies look like). KEYS[1] meta. */
export const META_SCRIPT = script(`
return redis.call('HGETALL', KEYS[1])
`);
