-- Run a collection: filters (ANDed), sort and slice, in one call.
-- KEYS[1] = pks set, other KEYS = index keys referenced by position.
-- ARGV[1] = N filters, each: type ("eq" | "pk"), index key position (0 for pk), entry or pk
-- then sort: mode ("pk" | "islot" | "string"), key prefix, hash slot, value order, desc "1"/"0", pk order
--   (orders: "int" exact decimal integers, "float" numbers, "bytes"; ties are ordered by pk)
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
local value_order, desc, pk_order = ARGV[pos + 3], ARGV[pos + 4] == "1", ARGV[pos + 5]
local s_start, s_stop, s_step = ARGV[pos + 6], ARGV[pos + 7], ARGV[pos + 8]
local count_only = ARGV[pos + 9] == "count"

if count_only and nfilters == 0 then return {redis.call("SCARD", KEYS[1])} end
if count_only and nfilters == 1 and filters[1].kind == "eq" then
  return {redis.call("ZLEXCOUNT", filters[1].idx, lex_bounds(filters[1].value))}
end

-- Candidates: all pks, or the members of the most selective filter; the others are checked per pk.
local pks
if nfilters == 0 then
  pks = redis.call("SMEMBERS", KEYS[1])
else
  local best, best_size = nil, nil
  for i, f in ipairs(filters) do
    local size
    if f.kind == "pk" then size = 1 else
      size = redis.call("ZLEXCOUNT", f.idx, lex_bounds(f.value))
    end
    if best == nil or size < best_size then best, best_size = i, size end
  end
  local first = filters[best]
  local candidates = {}
  if first.kind == "pk" then
    if redis.call("SISMEMBER", KEYS[1], first.value) == 1 then candidates[1] = first.value end
  else
    local members = redis.call("ZRANGEBYLEX", first.idx, lex_bounds(first.value))
    for i = 1, #members do candidates[i] = member_pk(members[i], first.value) end
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

-- Compare two decimal integers exactly, as text (a double would tie them above 2^53): -1, 0 or 1.
local function cmp_int(a, b)
  local na, nb = string.byte(a, 1) == 45, string.byte(b, 1) == 45 -- a leading "-"
  if na ~= nb then return na and -1 or 1 end
  local r
  if a == b then return 0 end
  if #a ~= #b then r = #a < #b and -1 or 1 else r = a < b and -1 or 1 end
  return na and -r or r
end

-- The sort key of a stored value under an order; an int order needs canonical decimal text.
local function sort_key(v, order)
  if order == "int" then
    if not (string.match(v, "^%-?[1-9]%d*$") or v == "0") then
      error("cannot sort as integers by value " .. v .. "; use alpha=True")
    end
    return v
  end
  if order == "float" then
    local n = tonumber(v)
    if n == nil or n ~= n then error("cannot sort numerically by value " .. v .. "; use alpha=True") end
    return n
  end
  return v
end

local function cmp(a, b, order)
  if order == "int" then return cmp_int(a, b) end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local keys, ties = {}, {}
for _, pk in ipairs(pks) do
  ties[pk] = sort_key(pk, pk_order)
  local v = pk
  if sort_mode == "islot" then
    v = redis.call("HGET", sort_prefix .. esc_key(pk), sort_slot)
  elseif sort_mode == "string" then
    v = redis.call("GET", sort_prefix .. esc_key(pk))
  end
  keys[pk] = v and sort_key(v, value_order) or false
end
-- Missing values first, then by value, ties by pk: a total order, so slices are stable.
local function less(a, b)
  local ka, kb = keys[a], keys[b]
  local c
  if ka == false or kb == false then
    if ka == kb then c = 0 elseif ka == false then c = -1 else c = 1 end
  else
    c = cmp(ka, kb, value_order)
  end
  if c == 0 then c = cmp(ties[a], ties[b], pk_order) end
  if desc then return c > 0 end
  return c < 0
end
table.sort(pks, less)

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
