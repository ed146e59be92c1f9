-- Run a collection: filters (ANDed), sort and slice, in one call.
-- KEYS[1] = pks set, other KEYS = index keys referenced by position.
-- ARGV[1] = N filters, each: type ("eq" | "pk"), index key position (0 for pk), entry or pk
-- then sort: mode ("pk" | "islot" | "string" | "none"), key prefix, hash slot, numeric "1"/"0", desc "1"/"0",
--   pks numeric "1"/"0" (ties between equal values are ordered by pk)
-- then slice: start, stop, step ("" for None), then "count" to only count.
-- Keys of other instances (for sorting by a field) are named from the prefix in ARGV, which holds
-- the model's hash tag: they live in the same cluster slot as KEYS[1].
-- Returns {total, pk, pk, ...} (just {total} when counting).
local nfilters = tonumber(ARGV[1])
local filters, pos = {}, 2
for i = 1, nfilters do
  filters[i] = {kind = ARGV[pos], idx = KEYS[tonumber(ARGV[pos + 1])], value = ARGV[pos + 2]}
  pos = pos + 3
end
local sort_mode, sort_prefix, sort_slot = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2]
local numeric, desc = ARGV[pos + 3] == "1", ARGV[pos + 4] == "1"
local pk_numeric = ARGV[pos + 5] == "1"
local s_start, s_stop, s_step = ARGV[pos + 6], ARGV[pos + 7], ARGV[pos + 8]
local count_only = ARGV[pos + 9] == "count"

-- Candidates: all pks, or the members of the most selective filter; the others are checked per pk.
local pks
if nfilters == 0 then
  pks = redis.call("SMEMBERS", KEYS[1])
else
  local best, best_size = nil, nil
  for i, f in ipairs(filters) do
    local size
    if f.kind == "pk" then size = 1 else
      size = redis.call("ZLEXCOUNT", f.idx, "[" .. f.value .. "\0", "(" .. f.value .. "\1")
    end
    if best == nil or size < best_size then best, best_size = i, size end
  end
  local first = filters[best]
  local candidates = {}
  if first.kind == "pk" then
    if redis.call("SISMEMBER", KEYS[1], first.value) == 1 then candidates[1] = first.value end
  else
    local members = redis.call("ZRANGEBYLEX", first.idx, "[" .. first.value .. "\0", "(" .. first.value .. "\1")
    for i = 1, #members do candidates[i] = member_pk(members[i]) end
  end
  pks = {}
  for _, pk in ipairs(candidates) do
    local keep = true
    for i, f in ipairs(filters) do
      if i ~= best then
        if f.kind == "pk" then
          keep = pk == f.value
        else
          keep = redis.call("ZSCORE", f.idx, f.value .. "\0" .. esc_idx(pk)) ~= false
        end
        if not keep then break end
      end
    end
    if keep then pks[#pks + 1] = pk end
  end
end
if count_only then return {#pks} end

if sort_mode ~= "none" then
  local keys, ties = {}, {}
  for _, pk in ipairs(pks) do
    ties[pk] = pk_numeric and tonumber(pk) or pk
    local v = pk
    if sort_mode == "islot" then
      v = redis.call("HGET", sort_prefix .. esc_key(pk), sort_slot)
    elseif sort_mode == "string" then
      v = redis.call("GET", sort_prefix .. esc_key(pk))
    end
    if v and numeric then
      local n = tonumber(v)
      if n == nil then return redis.error_reply("cannot sort numerically by value " .. v .. "; use alpha=True") end
      v = n
    end
    keys[pk] = v or false
  end
  -- Missing values first, then by value, ties by pk: a total order, so slices are stable.
  local function less(a, b)
    local ka, kb = keys[a], keys[b]
    if ka ~= kb then
      if ka == false then return not desc end
      if kb == false then return desc end
      if desc then return ka > kb end
      return ka < kb
    end
    if desc then return ties[a] > ties[b] end
    return ties[a] < ties[b]
  end
  table.sort(pks, less)
end

-- Python slice semantics (negative bounds, steps, out of range).
local len = #pks
local step = tonumber(s_step) or 1
local lower, upper = 0, len
if step < 0 then lower, upper = -1, len - 1 end
local function bound(raw, default)
  local v = tonumber(raw)
  if v == nil then return default end
  if v < 0 then return math.max(v + len, lower) end
  return math.min(v, upper)
end
local first = bound(s_start, step > 0 and lower or upper)
local stop = bound(s_stop, step > 0 and upper or lower)
local out = {len}
local i = first
while (step > 0 and i < stop) or (step < 0 and i > stop) do
  out[#out + 1] = pks[i + 1]
  i = i + step
end
return out
