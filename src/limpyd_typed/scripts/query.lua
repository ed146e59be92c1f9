-- Run a collection: a condition tree (planner.py), then sort and slice, in one call.
-- KEYS[1] = pks set, other KEYS = index keys referenced by position.
-- ARGV: the tree in prefix notation (planner.py documents it), then
--   sort: mode ("pk" | "islot" | "string"), key prefix, hash slot, value order, desc "1"/"0", pk order
--   (orders: "int" exact decimal integers, "float" numbers, "decimal"/"datetime" exact by value
--   through sortable(), "bytes"; ties are ordered by pk)
--   slice: start, stop, step ("" for None), then "count" to only count,
--   then F fields to read for each result: mode, key prefix (or key), hash slot
--   (modes: "pk", "islot", "string", "score" = ZSCORE in a sorted set, "stored" = stored position),
--   then optionally "store", key position, header, ttl ("" for none): keep the sorted pks in a list;
--   or "page", size, then a cursor or nothing: "1"/"0" (the last item had a sort value), that raw
--   value, its pk: the first `size` results after the cursor's place in the order.
-- Keys of other instances (for sorting by a field) are named from the prefix in ARGV, which holds
-- the model's hash tag: they live in the same cluster slot as KEYS[1].
-- Returns {total, pk, <its F values>, pk, ...} (just {total} when counting or storing).

-- Parse the tree: each node is a table {op = ..., ...}.
local pos = 1
local function parse()
  local op = ARGV[pos]
  pos = pos + 1
  if op == "and" or op == "or" then
    local n, children = tonumber(ARGV[pos]), {}
    pos = pos + 1
    for i = 1, n do children[i] = parse() end
    return {op = op, children = children}
  elseif op == "not" then
    return {op = op, child = parse()}
  elseif op == "pk" then
    pos = pos + 1
    return {op = op, pk = ARGV[pos - 1]}
  elseif op == "eq" then
    pos = pos + 3
    return {op = op, idx = KEYS[tonumber(ARGV[pos - 3])], entry = ARGV[pos - 2], parts = tonumber(ARGV[pos - 1])}
  elseif op == "members" or op == "stored" then
    pos = pos + 1
    return {op = op, key = KEYS[tonumber(ARGV[pos - 1])]}
  elseif op == "range" then
    pos = pos + 4
    return {op = op, idx = KEYS[tonumber(ARGV[pos - 4])], low = ARGV[pos - 3], high = ARGV[pos - 2],
            parts = tonumber(ARGV[pos - 1])}
  end
  return {op = "all"}
end
local tree = parse()

local sort_mode, sort_prefix, sort_slot = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2]
local value_order, desc, pk_order = ARGV[pos + 3], ARGV[pos + 4] == "1", ARGV[pos + 5]
local s_start, s_stop, s_step = ARGV[pos + 6], ARGV[pos + 7], ARGV[pos + 8]
local count_only = ARGV[pos + 9] == "count"
local fetch, nfetch = {}, tonumber(ARGV[pos + 10])
for i = 1, nfetch do
  local at = pos + 11 + (i - 1) * 3
  fetch[i] = {mode = ARGV[at], prefix = ARGV[at + 1], slot = ARGV[at + 2]}
end
local after = pos + 11 + nfetch * 3
-- Consecutive fields of the instance hash are read together: one HMGET per result, not one HGET
-- per field and result.
local fetch_groups = {}
for _, f in ipairs(fetch) do
  local last = fetch_groups[#fetch_groups]
  if f.mode == "islot" and last and last.mode == "islot" and last.prefix == f.prefix then
    last.slots[#last.slots + 1] = f.slot
  else
    fetch_groups[#fetch_groups + 1] = {mode = f.mode, prefix = f.prefix, slot = f.slot, slots = {f.slot}}
  end
end
local store = ARGV[after] == "store" and {key = KEYS[tonumber(ARGV[after + 1])], header = ARGV[after + 2],
                                           ttl = tonumber(ARGV[after + 3])} or nil
local page = ARGV[after] == "page" and {size = tonumber(ARGV[after + 1]), has_cursor = ARGV[after + 2] ~= nil,
                                         present = ARGV[after + 2] == "1", value = ARGV[after + 3],
                                         pk = ARGV[after + 4]} or nil

-- The pks of a stored collection, in order (a stored list starts with a header).
local function stored_pks(key)
  if redis.call("EXISTS", key) == 0 then
    return error("the stored collection " .. key .. " is gone (expired or deleted)")
  end
  return redis.call("LRANGE", key, 1, -1)
end

local positions = {}
local function stored_position(key, pk)
  if not positions[key] then
    positions[key] = {}
    for i, p in ipairs(stored_pks(key)) do
      if not positions[key][p] then positions[key][p] = tostring(i) end
    end
  end
  return positions[key][pk] or false
end

-- The value of a single-value field of the instance pk (false when it has none).
local function read_value(mode, prefix, slot, pk)
  if mode == "islot" then return redis.call("HGET", prefix .. esc_key(pk), slot) end
  if mode == "string" then return redis.call("GET", prefix .. esc_key(pk)) end
  if mode == "score" then return redis.call("ZSCORE", prefix, pk) end
  if mode == "stored" then return stored_position(prefix, pk) end
  return pk
end

-- Append the fetched values of the instance pk to out, in the order of the fetched fields.
local function append_values(out, pk)
  for _, g in ipairs(fetch_groups) do
    if #g.slots > 1 then
      local values = redis.call("HMGET", g.prefix .. esc_key(pk), unpack(g.slots))
      for i = 1, #g.slots do out[#out + 1] = values[i] end
    else
      out[#out + 1] = read_value(g.mode, g.prefix, g.slot, pk)
    end
  end
end

-- The pk of an index member whose entry has `parts` parts: what follows the parts' NUL bytes.
local function pk_after(m, parts)
  local at = 0
  for _ = 1, parts do at = string.find(m, "\0", at + 1, true) end
  return unesc_idx(string.sub(m, at + 1))
end

-- Evaluation: every node gives a set {pk = true} and its size.
local universe
local function all_pks()
  if not universe then
    universe = {}
    for _, pk in ipairs(redis.call("SMEMBERS", KEYS[1])) do universe[pk] = true end
  end
  return universe
end

local function size_of(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

local function holds(node, pk)
  return redis.call("ZSCORE", node.idx, node.entry .. "\0" .. esc_idx(pk)) ~= false
end

local eval
local function eval_and(node)
  -- Set-valued children first (smallest first); equality leaves then only check each candidate.
  local sets, checks = {}, {}
  for _, child in ipairs(node.children) do
    if child.op == "eq" then checks[#checks + 1] = child else sets[#sets + 1] = eval(child) end
  end
  -- The base is the smallest candidate set: the smallest equality leaf (counted, not read) when
  -- it is smaller than every set, so `city == x AND age >= y` checks x's few pks, not every age.
  local best, best_size = nil, nil
  for i, check in ipairs(checks) do
    local n = redis.call("ZLEXCOUNT", check.idx, lex_bounds(check.entry))
    if best_size == nil or n < best_size then best, best_size = i, n end
  end
  table.sort(sets, function(a, b) return size_of(a) < size_of(b) end)
  local base
  if best ~= nil and (#sets == 0 or best_size < size_of(sets[1])) then
    base = eval(table.remove(checks, best))
  else
    base = table.remove(sets, 1)
  end
  local out = {}
  for pk in pairs(base) do
    local keep = true
    for _, set in ipairs(sets) do
      if not set[pk] then keep = false break end
    end
    if keep then
      for _, check in ipairs(checks) do
        if not holds(check, pk) then keep = false break end
      end
    end
    if keep then out[pk] = true end
  end
  return out
end

eval = function(node)
  local out = {}
  if node.op == "all" then return all_pks() end
  if node.op == "pk" then
    if redis.call("SISMEMBER", KEYS[1], node.pk) == 1 then out[node.pk] = true end
  elseif node.op == "eq" or node.op == "range" then
    local low, high = node.low, node.high
    if node.op == "eq" then low, high = lex_bounds(node.entry) end
    for _, m in ipairs(redis.call("ZRANGEBYLEX", node.idx, low, high)) do out[pk_after(m, node.parts)] = true end
  elseif node.op == "members" or node.op == "stored" then
    local members
    if node.op == "stored" then
      members = stored_pks(node.key)
    else
      local kind = redis.call("TYPE", node.key).ok
      if kind == "set" then
        members = redis.call("SMEMBERS", node.key)
      elseif kind == "list" then
        members = redis.call("LRANGE", node.key, 0, -1)
      elseif kind == "zset" then
        members = redis.call("ZRANGE", node.key, 0, -1)
      elseif kind == "none" then
        members = {}
      else
        return error("cannot intersect with " .. node.key .. ": it is a " .. kind .. ", not a set, list or sorted set")
      end
    end
    for _, pk in ipairs(members) do
      if redis.call("SISMEMBER", KEYS[1], pk) == 1 then out[pk] = true end
    end
  elseif node.op == "and" then
    if #node.children == 0 then return all_pks() end
    return eval_and(node)
  elseif node.op == "or" then
    for _, child in ipairs(node.children) do
      for pk in pairs(eval(child)) do out[pk] = true end
    end
  else -- not
    local excluded = eval(node.child)
    for pk in pairs(all_pks()) do
      if not excluded[pk] then out[pk] = true end
    end
  end
  return out
end

-- Counting without building sets where the indexes already know the answer.
if count_only then
  if tree.op == "all" then return {redis.call("SCARD", KEYS[1])} end
  if tree.op == "eq" then return {redis.call("ZLEXCOUNT", tree.idx, lex_bounds(tree.entry))} end
  return {size_of(eval(tree))}
end

local pks = {}
for pk in pairs(eval(tree)) do pks[#pks + 1] = pk end

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
  -- Exact orders (Decimal by value, datetime by instant): their order-preserving bytes.
  if order == "decimal" or order == "datetime" then return sortable(v, order) end
  return v
end

local function cmp(a, b, order)
  if order == "int" then return cmp_int(a, b) end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local keys, ties, raws = {}, {}, {}
for _, pk in ipairs(pks) do
  ties[pk] = sort_key(pk, pk_order)
  local v = read_value(sort_mode, sort_prefix, sort_slot, pk)
  raws[pk] = v
  keys[pk] = v and sort_key(v, value_order) or false
end
-- Missing values first, then by value, ties by pk: a total order, so slices are stable.
-- -1, 0 or 1: the ascending order of (sort key, tie) pairs.
local function compare(ka, ta, kb, tb)
  local c
  if ka == false or kb == false then
    if ka == kb then c = 0 elseif ka == false then c = -1 else c = 1 end
  else
    c = cmp(ka, kb, value_order)
  end
  if c == 0 then c = cmp(ta, tb, pk_order) end
  return c
end
local function less(a, b)
  local c = compare(keys[a], ties[a], keys[b], ties[b])
  if desc then return c > 0 end
  return c < 0
end
table.sort(pks, less)

if page then
  -- Keyset pagination: what comes after the cursor's place in the order, wherever it now is, so
  -- objects added or removed between pages shift nothing.
  local after_pks = pks
  if page.has_cursor then
    local ck = page.present and sort_key(page.value, value_order) or false
    local ct = sort_key(page.pk, pk_order)
    after_pks = {}
    for _, pk in ipairs(pks) do
      local c = compare(ck, ct, keys[pk], ties[pk])
      if (desc and c > 0) or (not desc and c < 0) then after_pks[#after_pks + 1] = pk end
    end
  end
  local out = {#after_pks}
  local last = nil
  for i = 1, math.min(page.size, #after_pks) do
    local pk = after_pks[i]
    out[#out + 1] = pk
    append_values(out, pk)
    last = pk
  end
  out[#out + 1] = last and raws[last] or false -- the sort value of the last item: the next cursor
  return out
end

if store then
  redis.call("DEL", store.key)
  local list = {store.header}
  for _, pk in ipairs(pks) do list[#list + 1] = pk end
  call_chunked("RPUSH", store.key, list)
  if store.ttl then redis.call("EXPIRE", store.key, store.ttl) end
  return {#pks}
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
  local pk = pks[i + 1]
  out[#out + 1] = pk
  append_values(out, pk)
  i = i + step
end
return out
