-- Create instances (one, or a bulk_create batch), each with all its field values and index
-- entries. Rows are created in order, each checked before anything of it is written: a refused row
-- writes nothing, the rows before and after it stand. One call for a whole batch: the per-call
-- costs (arguments of the model's fields, this file's setup, one command per index) are paid
-- once, not once per row.
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

-- The fields of the row being created, by their number g in the row: descriptor, value (a string
-- for single-valued kinds, else a list), index entry (a string, else a set) and value count.
-- Reused from row to row: a batch of rows allocates no table per field.
local fd, fv, fe, fn, nf = {}, {}, {}, {}, 0

-- Read the row at ARGV[at] into the arrays above (an error for a value its index cannot read);
-- returns where the next row starts.
local function parse(at)
  local p = at + 3
  nf = tonumber(ARGV[at + 2])
  for g = 1, nf do
    local d, n = descs[tonumber(ARGV[p])], tonumber(ARGV[p + 1])
    fd[g], fn[g] = d, n
    if d.single then
      local v = ARGV[p + 2]
      fv[g] = v
      if d.mode > 0 then
        if d.norm then v = d.norm(v) end
        fe[g] = esc_idx(v)
      end
    else
      local values = {}
      for j = 1, n do values[j] = ARGV[p + 1 + j] end
      fv[g] = values
      if d.mode > 0 then fe[g] = entries_from(d.kind, values, d.how) end
    end
    p = p + 2 + n
  end
  return p
end

-- Index entries and pks of the rows accepted so far, written at the end in one variadic command
-- per key: one ZADD per index for a whole batch, not one per row and index. Until then, `taken`
-- and `added` let later rows of the call see them (a unique value, a pk already used in the call).
local pending, taken, added, new_pks = {}, {}, {}, {}
for _, d in ipairs(descs) do
  if d.mode > 0 then pending[d] = {} end
  if d.mode == 2 then taken[d] = {} end
end

-- The refusal of the row parsed (before anything of it is written), or nil.
local function refusal(auto, pk)
  if not auto and (added[pk] or redis.call("SISMEMBER", KEYS[1], pk) == 1) then return {0, "exists", pk} end
  for g = 1, nf do
    local d = fd[g]
    if d.mode == 2 then
      local entries = fe[g]
      if d.single then entries = {[entries] = true} end
      for e in pairs(entries) do
        local holder = taken[d][e] or unique_holder(d.idx, e, NO_PK)
        if holder then return {0, "unique", d.number, unesc_idx(e), holder} end
      end
    end
  end
  return nil
end

local slots = {} -- the instance hash's sub-keys and values of the row, reused too

-- Write the parsed row's data keys now; its pk and index entries go to the pending lists.
local function write(auto, pk)
  if auto then
    -- A pk already taken (set by hand, or given to a row of this call) is skipped.
    repeat pk = tostring(redis.call("INCR", KEYS[2])) until not added[pk] and redis.call("SISMEMBER", KEYS[1], pk) == 0
  end
  added[pk] = true
  new_pks[#new_pks + 1] = pk
  local kpk = esc_key(pk)
  local member = "\0" .. esc_idx(pk)
  local nslots, hash_key = 0, nil
  for g = 1, nf do
    local d = fd[g]
    if d.kind == "islot" then
      hash_key = d.prefix .. kpk
      slots[nslots + 1] = d.slot
      slots[nslots + 2] = fv[g]
      nslots = nslots + 2
    elseif d.kind == "string" then
      redis.call("SET", d.prefix .. kpk, fv[g])
    elseif fn[g] > 0 then
      call_chunked(FILL[d.kind], d.prefix .. kpk, fv[g])
    end
    if d.mode > 0 then
      local out = pending[d]
      if d.single then
        out[#out + 1] = 0
        out[#out + 1] = fe[g] .. member
        if d.mode == 2 then taken[d][fe[g]] = pk end
      else
        for e in pairs(fe[g]) do
          out[#out + 1] = 0
          out[#out + 1] = e .. member
          if d.mode == 2 then taken[d][e] = pk end
        end
      end
    end
  end
  if hash_key then
    for i = nslots + 1, #slots do slots[i] = nil end
    call_chunked("HSET", hash_key, slots)
  end
  return pk
end

local replies, count = {}, #ARGV
while pos <= count do
  local auto, pk = ARGV[pos] == "auto", ARGV[pos + 1]
  local ok, after = pcall(parse, pos)
  if not ok then
    replies[#replies + 1] = {0, "error", tostring(after)}
    after = row_end(pos)
  else
    replies[#replies + 1] = refusal(auto, pk) or {1, write(auto, pk)}
  end
  pos = after
end
-- The pks last: should a command fail before (a key of the wrong type, written by hand), the
-- rows of this call stay invisible (check_indexes reports their keys and entries as orphans).
for d, out in pairs(pending) do
  if #out > 0 then call_chunked("ZADD", d.idx, out) end
end
if #new_pks > 0 then call_chunked("SADD", KEYS[1], new_pks) end
return replies
