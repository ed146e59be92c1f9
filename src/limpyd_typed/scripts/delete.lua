-- Delete one instance: every key it owns and every index entry it holds, atomically.
-- KEYS[1] = pks set, KEYS[2 .. ARGV[2]+1] = the instance's data keys, other KEYS = index keys.
-- ARGV[1] = pk, ARGV[2] = number of data keys, ARGV[3] = F, then F indexed fields as:
--   kind, data key position, hash slot (or ""), index key position, normalisation ("float" or "")
-- Returns {1} | {0, "missing"}
local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return {0, "missing"} end
local epk = esc_idx(pk)
local pos = 4
for _ = 1, tonumber(ARGV[3]) do
  local kind, key, slot = ARGV[pos], KEYS[tonumber(ARGV[pos + 1])], ARGV[pos + 2]
  reindex(KEYS[tonumber(ARGV[pos + 3])], entries_of(kind, key, slot, ARGV[pos + 4]), {}, epk)
  pos = pos + 5
end
local ndata = tonumber(ARGV[2])
if ndata > 0 then redis.call("DEL", unpack(KEYS, 2, ndata + 1)) end
redis.call("SREM", KEYS[1], pk)
return {1}
