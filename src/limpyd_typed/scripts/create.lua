-- Create instances (one, or a bulk_create batch), each with all its field values and index
-- entries. Rows are created in order, each checked before anything of it is written: a refused row
-- writes nothing, the rows before and after it stand. One call for a whole batch: the per-call
-- costs (arguments of the model's fields, this file's setup) are paid once, not once per row.
-- KEYS[1] = pks set, KEYS[2] = AutoPK counter, KEYS[3..] = index keys referenced by position.
-- ARGV[1] = F, then the model's F field descriptors as: kind, key prefix (the instance hash's for
--   islot), hash slot (or ""), index mode (0 none, 1 indexed, 2 unique), index key position (0 if
--   none), normalisation ("float", "sort:<type>" or "");
-- then the rows, up to the end of ARGV, each as: "auto" or "given", the given pk (or ""), G, then
--   G fields as: descriptor number, n, n values (pairs for hash (sub-key, value) and zset
--   (score, member)).
-- Instance hash and own keys are named from the pk, which for AutoPK exists only in here; they
-- carry the same hash tag as KEYS[1], so they live in the same cluster slot.
-- Returns one reply per row: {1, pk} | {0, "exists", pk} | {0, "unique", descriptor, raw value,
--   holder pk} | {0, "error", message} (a value the index cannot read: nothing of the row written)
local descs, pos = {}, 2
for i = 1, tonumber(ARGV[1]) do
  local kind = ARGV[pos]
  descs[i] = {
    number = i, kind = kind, prefix = ARGV[pos + 1], slot = ARGV[pos + 2], mode = tonumber(ARGV[pos + 3]),
    idx = KEYS[tonumber(ARGV[pos + 4])], norm = normaliser(ARGV[pos + 5]), how = ARGV[pos + 5],
    single = kind == "string" or kind == "islot",
  }
  pos = pos + 6
end

-- Where the row after the row at ARGV[at] starts.
local function row_end(at)
  local p = at + 3
  for _ = 1, tonumber(ARGV[at + 2]) do p = p + 2 + tonumber(ARGV[p + 1]) end
  return p
end

-- The fields of the row at ARGV[at], with their index entries: single-valued fields hold their
-- value and entry as strings (no table per value), the others a values list and an entries set.
local function parse(at)
  local fields, p = {}, at + 3
  for g = 1, tonumber(ARGV[at + 2]) do
    local d, n = descs[tonumber(ARGV[p])], tonumber(ARGV[p + 1])
    local f = {d = d, n = n}
    if d.single then
      f.value = ARGV[p + 2]
      if d.mode > 0 then
        local v = f.value
        if d.norm then v = d.norm(v) end
        f.entry = esc_idx(v)
      end
    else
      f.values = {unpack(ARGV, p + 2, p + 1 + n)}
      if d.mode > 0 then f.entries = entries_from(d.kind, f.values, d.how) end
    end
    fields[g] = f
    p = p + 2 + n
  end
  return fields
end

-- The refusal of a row (before anything of it is written), or nil.
local function refusal(auto, pk, fields)
  if not auto and redis.call("SISMEMBER", KEYS[1], pk) == 1 then return {0, "exists", pk} end
  for _, f in ipairs(fields) do
    local d = f.d
    if d.mode == 2 then
      if f.entry then
        local holder = unique_holder(d.idx, f.entry, NO_PK)
        if holder then return {0, "unique", d.number, unesc_idx(f.entry), holder} end
      elseif f.entries then
        for e in pairs(f.entries) do
          local holder = unique_holder(d.idx, e, NO_PK)
          if holder then return {0, "unique", d.number, unesc_idx(e), holder} end
        end
      end
    end
  end
  return nil
end

local function write(auto, pk, fields)
  if auto then
    -- SADD answers 0 for a pk already taken (set by hand): take the next one.
    repeat pk = tostring(redis.call("INCR", KEYS[2])) until redis.call("SADD", KEYS[1], pk) == 1
  else
    redis.call("SADD", KEYS[1], pk)
  end
  local kpk, epk = esc_key(pk), esc_idx(pk)
  local member = "\0" .. epk
  local slots, hash_key = nil, nil
  for _, f in ipairs(fields) do
    local d = f.d
    if d.kind == "islot" then
      hash_key = d.prefix .. kpk
      slots = slots or {}
      slots[#slots + 1] = d.slot
      slots[#slots + 1] = f.value
    elseif d.kind == "string" then
      redis.call("SET", d.prefix .. kpk, f.value)
    elseif f.n > 0 then
      call_chunked(FILL[d.kind], d.prefix .. kpk, f.values)
    end
    if f.entry then
      redis.call("ZADD", d.idx, 0, f.entry .. member)
    elseif f.entries then
      reindex(d.idx, {}, f.entries, epk)
    end
  end
  if hash_key then call_chunked("HSET", hash_key, slots) end
  return pk
end

local replies, count = {}, #ARGV
while pos <= count do
  local auto, pk = ARGV[pos] == "auto", ARGV[pos + 1]
  local ok, fields = pcall(parse, pos)
  if not ok then
    replies[#replies + 1] = {0, "error", tostring(fields)}
  else
    replies[#replies + 1] = refusal(auto, pk, fields) or {1, write(auto, pk, fields)}
  end
  pos = row_end(pos)
end
return replies
