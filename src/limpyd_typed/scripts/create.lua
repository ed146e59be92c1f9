-- Create one instance with all its field values and index entries, atomically.
-- KEYS[1] = pks set, KEYS[2] = AutoPK counter, KEYS[3..] = index keys referenced by position.
-- ARGV[1] = "auto" or "given", ARGV[2] = the given pk,
-- ARGV[3] = F, then F fields as: kind, key prefix (the instance hash's for islot), hash slot (or ""),
--   index mode (0 none, 1 indexed, 2 unique), index key position (0 if none),
--   normalisation ("float" or ""), n, n values
--   (values are pairs for hash (sub-key, value) and zset (score, member)).
-- Instance hash and own keys are named from the pk, which for AutoPK exists only in here; they
-- carry the same hash tag as KEYS[1], so they live in the same cluster slot.
-- Returns {1, pk} | {0, "exists", pk} | {0, "unique", field number, raw value, holder pk}
local fields, pos = {}, 4
for i = 1, tonumber(ARGV[3]) do
  local f = {
    kind = ARGV[pos], prefix = ARGV[pos + 1], slot = ARGV[pos + 2],
    mode = tonumber(ARGV[pos + 3]), idx = KEYS[tonumber(ARGV[pos + 4])], values = {},
  }
  local how = ARGV[pos + 5]
  local n = tonumber(ARGV[pos + 6])
  for j = 1, n do f.values[j] = ARGV[pos + 6 + j] end
  f.entries = {}
  if f.mode > 0 then
    local single = f.kind == "string" or f.kind == "islot"
    f.entries = entries_from(f.kind, single and f.values[1] or f.values, how)
  end
  fields[i] = f
  pos = pos + 7 + n
end

-- Every check before the first write, so a refused instance leaves nothing behind.
local pk = ARGV[2]
if ARGV[1] == "given" and redis.call("SISMEMBER", KEYS[1], pk) == 1 then return {0, "exists", pk} end
for n, f in ipairs(fields) do
  if f.mode == 2 then
    for e in pairs(f.entries) do
      local holder = unique_holder(f.idx, e, NO_PK)
      if holder then return {0, "unique", n, unesc_idx(e), holder} end
    end
  end
end
if ARGV[1] == "auto" then
  repeat pk = tostring(redis.call("INCR", KEYS[2])) until redis.call("SISMEMBER", KEYS[1], pk) == 0
end

redis.call("SADD", KEYS[1], pk)
local kpk, epk = esc_key(pk), esc_idx(pk)
local slots, hash_key = {}, nil
for _, f in ipairs(fields) do
  if f.kind == "islot" then
    hash_key = f.prefix .. kpk
    slots[#slots + 1] = f.slot
    slots[#slots + 1] = f.values[1]
  elseif #f.values > 0 then
    local key = f.prefix .. kpk
    if f.kind == "string" then redis.call("SET", key, f.values[1]) else call_chunked(FILL[f.kind], key, f.values) end
  end
  if f.mode > 0 then reindex(f.idx, {}, f.entries, epk) end
end
if hash_key then call_chunked("HSET", hash_key, slots) end
return {1, pk}
