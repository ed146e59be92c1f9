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
-- Returns one reply per row: the pk created | {0, "exists", pk} | {0, "unique", descriptor, raw
--   value, holder pk} | {0, "error", message} (a value the index cannot read: nothing written) |
--   {0, "stray", pk, key} (a data key of the new instance exists already: nothing written, but
--   an auto pk was taken from the counter)
--
-- Cost: in a script every table and every new string is an allocation, which costs more than a
-- command; so a descriptor is read from ARGV where it lies (descriptor i at ARGV[desc(i)]), and
-- a row is read from ARGV twice (check, then write) rather than copied into tables.
local DESC = 2 -- where descriptor 1 lies
local function desc(i) return DESC + (i - 1) * 6 end
local first_row = desc(tonumber(ARGV[1]) + 1)

-- Where the row after the row at ARGV[at] starts.
local function row_end(at)
  local p = at + 3
  for _ = 1, tonumber(ARGV[at + 2]) do p = p + 2 + tonumber(ARGV[p + 1]) end
  return p
end

local many = row_end(first_row) <= #ARGV
-- With several rows, index entries and pks of the rows accepted so far are written at the end in
-- one variadic command per key (one ZADD per index for a whole batch, not one per row); until
-- then, `taken` and `added` let later rows see them (a unique value, a pk already used in the call).
local pending, taken, added, new_pks -- tables, made only for several rows
if many then pending, taken, added, new_pks = {}, {}, {}, {} end

-- The values of the multi-valued field whose n values start at ARGV[p].
local function values_at(p, n)
  local values = {}
  for j = 1, n do values[j] = ARGV[p + j - 1] end
  return values
end

-- The index entry of a single-valued field's value v (descriptor at ARGV[d]).
local function entry_of(d, v)
  return index_entry(v, ARGV[d + 5])
end

-- The entries check() computed for the row it checked, by descriptor, for write() to reuse
-- (single-valued fields; one table for every row).
local row_entries = {}

-- The holder of entry e of the unique index of descriptor d, in this call or stored, or nil.
local function holder_of(d, idx, e)
  local mine = many and taken[d]
  return mine and mine[e] or unique_holder(idx, e, NO_PK)
end

-- Check the row at ARGV[at]: its refusal, or nil. Computes every index entry, so that a value
-- its index cannot read raises here, before anything of the row is written.
local function check(at, auto, pk)
  if not auto and ((many and added[pk]) or redis.call("SISMEMBER", KEYS[1], pk) == 1) then
    return {0, "exists", pk}
  end
  local p = at + 3
  for _ = 1, tonumber(ARGV[at + 2]) do
    local number, n = tonumber(ARGV[p]), tonumber(ARGV[p + 1])
    local d = desc(number)
    local mode, kind = ARGV[d + 3], ARGV[d]
    if mode ~= "0" then
      local idx = KEYS[tonumber(ARGV[d + 4])]
      if kind == "string" or kind == "islot" then
        local e = entry_of(d, ARGV[p + 2])
        row_entries[d] = e
        if mode == "2" then
          local holder = holder_of(d, idx, e)
          if holder then return {0, "unique", number, unesc_idx(e), holder} end
        end
      else
        for e in pairs(entries_from(kind, values_at(p + 2, n), ARGV[d + 5])) do
          if mode == "2" then
            local holder = holder_of(d, idx, e)
            if holder then return {0, "unique", number, unesc_idx(e), holder} end
          end
        end
      end
    end
    p = p + 2 + n
  end
  return nil
end

-- Record (or, for a single row, write) index entry e of descriptor d for the instance pk.
local function add_entry(d, idx, mode, e, member, pk)
  if not many then
    redis.call("ZADD", idx, 0, e .. member)
    return
  end
  local out = pending[d]
  if not out then
    out = {}
    pending[d] = out
  end
  out[#out + 1] = 0
  out[#out + 1] = e .. member
  if mode == "2" then
    taken[d] = taken[d] or {}
    taken[d][e] = pk
  end
end

local slots = {} -- the instance hash's sub-keys and values of a row, reused from row to row

-- The model's data key prefixes, each once (InstanceHash fields share the instance hash).
local prefixes = {}
do
  local seen = {}
  for i = 1, tonumber(ARGV[1]) do
    local prefix = ARGV[desc(i) + 1]
    if not seen[prefix] then
      seen[prefix] = true
      prefixes[#prefixes + 1] = prefix
    end
  end
end
local data_keys = {} -- a row's data keys, reused from row to row

-- A data key of the new instance kpk that exists already, or nil: any field's, given in the row or
-- not. A new instance's keys cannot exist unless written outside the library (orphans): merged with
-- the new values they would leave the index short, and a key of another type would fail a command
-- midway. One EXISTS for all of them.
local function stray_key(kpk)
  if #prefixes == 0 then return nil end -- a model of a pk alone
  for i, prefix in ipairs(prefixes) do data_keys[i] = prefix .. kpk end
  if redis.call("EXISTS", unpack(data_keys)) == 0 then return nil end
  for _, key in ipairs(data_keys) do
    if redis.call("EXISTS", key) == 1 then return key end
  end
end

-- Write the checked row at ARGV[at]: its data keys and index entries; its pk comes last.
local function write(at, auto, pk)
  if auto then
    -- A pk already taken (set by hand, or given to a row of this call) is skipped.
    repeat
      pk = tostring(redis.call("INCR", KEYS[2]))
    until not (many and added[pk]) and redis.call("SISMEMBER", KEYS[1], pk) == 0
  end
  local kpk = esc_key(pk)
  local stray = stray_key(kpk)
  if stray then return {0, "stray", pk, stray} end
  local member = "\0" .. esc_idx(pk)
  local nslots, hash_key = 0, nil
  local p = at + 3
  for _ = 1, tonumber(ARGV[at + 2]) do
    local d, n = desc(tonumber(ARGV[p])), tonumber(ARGV[p + 1])
    local kind, mode = ARGV[d], ARGV[d + 3]
    local single = kind == "string" or kind == "islot"
    if kind == "islot" then
      hash_key = hash_key or ARGV[d + 1] .. kpk
      slots[nslots + 1] = ARGV[d + 2]
      slots[nslots + 2] = ARGV[p + 2]
      nslots = nslots + 2
    elseif kind == "string" then
      redis.call("SET", ARGV[d + 1] .. kpk, ARGV[p + 2])
    elseif n > 0 then
      call_chunked(fill(kind), ARGV[d + 1] .. kpk, values_at(p + 2, n))
    end
    if mode ~= "0" then
      local idx = KEYS[tonumber(ARGV[d + 4])]
      if single then
        add_entry(d, idx, mode, row_entries[d], member, pk)
      else
        for e in pairs(entries_from(kind, values_at(p + 2, n), ARGV[d + 5])) do
          add_entry(d, idx, mode, e, member, pk)
        end
      end
    end
    p = p + 2 + n
  end
  if hash_key then
    for i = nslots + 1, #slots do slots[i] = nil end
    call_chunked("HSET", hash_key, slots)
  end
  if many then
    added[pk] = true
    new_pks[#new_pks + 1] = pk
  else
    redis.call("SADD", KEYS[1], pk)
  end
  return pk
end

local replies, pos, count = {}, first_row, #ARGV
while pos <= count do
  local auto, pk = ARGV[pos] == "auto", ARGV[pos + 1]
  local ok, refused = pcall(check, pos, auto, pk)
  if not ok then
    replies[#replies + 1] = {0, "error", tostring(refused)}
  else
    replies[#replies + 1] = refused or write(pos, auto, pk)
  end
  pos = row_end(pos)
end
-- The pks last: should a command fail before (a key of the wrong type, written by hand), the
-- rows of this call stay invisible (check_indexes reports their keys and entries as orphans).
if many then
  for d, out in pairs(pending) do
    call_chunked("ZADD", KEYS[tonumber(ARGV[d + 4])], out)
  end
  if #new_pks > 0 then call_chunked("SADD", KEYS[1], new_pks) end
end
return replies
