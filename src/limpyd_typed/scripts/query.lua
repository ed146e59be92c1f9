-- Run a collection: a condition tree (planner.py), then sort and slice, in one call.
-- KEYS[1] = pks set, other KEYS = index keys referenced by position.
-- ARGV: the tree in prefix notation (planner.py documents it), then
--   sort: mode ("pk" | "islot" | "string"), key prefix, hash slot, value order, desc "1"/"0", pk order
--   (orders: "int" exact decimal integers, "float" numbers, "decimal"/"datetime" exact by value
--   through sortable(), "bytes"; ties are ordered by pk, then by the pk's bytes)
--   slice: start, stop, step ("" for None), then "count" to only count, "bare" to leave pks out of
--   the results (values only), or "",
--   then the fields to read for each result: a count of arguments, then groups of them (below:
--   "islot" prefix n slots..., "string" prefix, "score" key = ZSCORE in a sorted set, "stored" key
--   = stored position, "pk"),
--   then optionally "store", key position, header, ttl ("" for none): keep the sorted pks in a list;
--   or "page", size, then a cursor or nothing: "1"/"0" (the last item had a sort value), that raw
--   value, its pk: the first `size` results after the cursor's place in the order.
-- Keys of other instances (for sorting by a field) are named from the prefix in ARGV, which holds
-- the model's hash tag: they live in the same cluster slot as KEYS[1].
-- Returns {total, pk, <its F values>, pk, ...} ({total, <F values>, ...} when bare; just {total}
-- when counting or storing).

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
    pos = pos + 8
    local low, high = ARGV[pos - 7], ARGV[pos - 6]
    return {op = op, idx = KEYS[tonumber(ARGV[pos - 8])], low = low, high = high, parts = tonumber(ARGV[pos - 5]),
            -- how to read the field's value of one instance ("" mode: it has several), and its
            -- index form: what in_range needs to test a candidate without reading the range
            mode = ARGV[pos - 4], prefix = ARGV[pos - 3], slot = ARGV[pos - 2], how = ARGV[pos - 1],
            low_open = string.byte(low, 1) == 40, low_at = string.sub(low, 2),
            high_open = string.byte(high, 1) == 40, high_at = string.sub(high, 2)}
  end
  return {op = "all"}
end
local tree = parse()

local sort_mode, sort_prefix, sort_slot = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2]
local value_order, desc, pk_order = ARGV[pos + 3], ARGV[pos + 4] == "1", ARGV[pos + 5]
local s_start, s_stop, s_step = ARGV[pos + 6], ARGV[pos + 7], ARGV[pos + 8]
local count_only = ARGV[pos + 9] == "count"
-- "bare": the results' values without their pks (the caller yields values only).
local bare = ARGV[pos + 9] == "bare"
-- The fields to read, as groups (fewer arguments to send): "islot", prefix, n, n hash slots (one
-- HMGET per result: consecutive fields of the instance hash); "string" or "score" or "stored",
-- then a prefix or key; "pk". ARGV[pos + 10] counts the arguments of the groups.
local fetch_groups, at = {}, pos + 11
local after = at + tonumber(ARGV[pos + 10])
while at < after do
  local mode = ARGV[at]
  if mode == "islot" then
    local slots = {}
    for j = 1, tonumber(ARGV[at + 2]) do slots[j] = ARGV[at + 2 + j] end
    fetch_groups[#fetch_groups + 1] = {mode = mode, prefix = ARGV[at + 1], slot = slots[1], slots = slots}
    at = at + 3 + #slots
  elseif mode == "pk" then
    fetch_groups[#fetch_groups + 1] = {mode = mode, prefix = "", slot = "", slots = {""}}
    at = at + 1
  else
    fetch_groups[#fetch_groups + 1] = {mode = mode, prefix = ARGV[at + 1], slot = "", slots = {""}}
    at = at + 2
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

-- A pk as a key part. Most pks need no escaping: a find is cheaper than esc_key's gsub, which
-- calls nothing but still costs a pattern scan and a copy per result.
local function key_part(pk)
  if not string.find(pk, "[^A-Za-z0-9_%.%-]") then return pk end
  return esc_key(pk)
end

-- Values of single-value fields, read at most once per instance and field in a run: a range leaf
-- tested on a candidate's value and a sort by the same field share one HGET.
local value_cache = {}

-- The values of one single-value field read so far: {pk = value, or false when it has none}.
local function cached_values(prefix, slot)
  local of_prefix = value_cache[prefix]
  if not of_prefix then
    of_prefix = {}
    value_cache[prefix] = of_prefix
  end
  local known = of_prefix[slot]
  if not known then
    known = {}
    of_prefix[slot] = known
  end
  return known
end

-- Read (and keep in known, its cached_values) the value of an islot or string field of pk.
local function fetch_value(known, mode, prefix, slot, pk)
  local v
  if mode == "islot" then v = redis.call("HGET", prefix .. key_part(pk), slot)
  else v = redis.call("GET", prefix .. key_part(pk)) end
  known[pk] = v
  return v
end

-- The value of a single-value field of the instance pk (false when it has none).
local function read_value(mode, prefix, slot, pk)
  if mode == "islot" or mode == "string" then
    local known = cached_values(prefix, slot)
    local v = known[pk]
    if v == nil then v = fetch_value(known, mode, prefix, slot, pk) end
    return v
  end
  if mode == "score" then return redis.call("ZSCORE", prefix, pk) end
  if mode == "stored" then return stored_position(prefix, pk) end
  return pk
end

-- Put the fetched values of the instance pk in out after its n-th item, in the order of the
-- fetched fields; returns the new count. (The count is carried: #out is a search in Lua 5.1, and
-- a page of results appends hundreds of values.)
local nfetch = #fetch_groups
local function append_values(out, n, pk)
  for j = 1, nfetch do
    local g = fetch_groups[j]
    local slots = g.slots
    if #slots > 1 then
      local values = redis.call("HMGET", g.prefix .. key_part(pk), unpack(slots))
      for i = 1, #slots do out[n + i] = values[i] end
      n = n + #slots
    else
      n = n + 1
      out[n] = read_value(g.mode, g.prefix, g.slot, pk)
    end
  end
  return n
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

-- Byte order of two strings, as ZRANGEBYLEX compares members (memcmp, then length): -1, 0 or 1.
-- Lua's own string comparison follows the server's collation locale, not bytes.
local function bytes_cmp(a, b)
  if a == b then return 0 end
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return #a < #b and -1 or 1
end

-- Whether the instance pk has an entry in the range of a range leaf on a single-value field,
-- found from its value as the write scripts index it (the entry they wrote), without reading the
-- range: the member (entry, NUL, escaped pk) is placed against the ZRANGEBYLEX bounds.
-- The planner's bounds hold an entry (or a prefix of one) then at most one byte, \0 or \1, and
-- never a pk: where a member falls depends on its entry alone, and "entry \0" falls where every
-- member of that entry does (an escaped entry holds no \0). So the answer is kept per value.
local function in_range(node, pk)
  local known = node.known
  if not known then
    known = cached_values(node.prefix, node.slot)
    node.known, node.verdicts = known, {}
  end
  local v = known[pk]
  if v == nil then v = fetch_value(known, node.mode, node.prefix, node.slot, pk) end
  if not v then return false end
  local verdict = node.verdicts[v]
  if verdict ~= nil then return verdict end
  local m = index_entry(v, node.how) .. "\0"
  local inside = true
  if node.low == "+" or node.high == "-" then
    inside = false
  else
    if node.low ~= "-" then
      local c = bytes_cmp(m, node.low_at)
      if c < 0 or (c == 0 and node.low_open) then inside = false end
    end
    if inside and node.high ~= "+" then
      local c = bytes_cmp(m, node.high_at)
      if c > 0 or (c == 0 and node.high_open) then inside = false end
    end
  end
  node.verdicts[v] = inside
  return inside
end

-- How many instances a leaf holds, counted without reading it (ZLEXCOUNT is O(log N)).
local function leaf_size(node)
  if node.op == "eq" then return redis.call("ZLEXCOUNT", node.idx, lex_bounds(node.entry)) end
  return redis.call("ZLEXCOUNT", node.idx, node.low, node.high)
end

-- A leaf that is not the base of an AND is either read whole (one ZRANGEBYLEX, then about 0.3 us
-- per member in Lua) or tested on each candidate of the base: one ZSCORE (eq, about 1 us), or one
-- value read, indexed and compared (range, about 2.5 us, its read shared with a sort by that field).
-- It is tested when it is this many times larger than the base (measured on Valkey 8.1).
local CHECK_EQ, CHECK_RANGE = 3, 6

local eval
local function eval_and(node)
  -- The base is the smallest child: leaves are counted, not read, so `city == x AND age >= y`
  -- walks x's few pks instead of every age in the range.
  local sets, leaves = {}, {}
  for _, child in ipairs(node.children) do
    if child.op == "eq" or child.op == "range" then
      leaves[#leaves + 1] = {node = child, size = leaf_size(child)}
    else
      local set = eval(child)
      sets[#sets + 1] = {set = set, size = size_of(set)}
    end
  end
  local function smaller(a, b) return a.size < b.size end
  table.sort(leaves, smaller)
  table.sort(sets, smaller)
  local base, base_size
  if leaves[1] and (not sets[1] or leaves[1].size < sets[1].size) then
    local leaf = table.remove(leaves, 1)
    base, base_size = eval(leaf.node), leaf.size
  else
    local first = table.remove(sets, 1)
    base, base_size = first.set, first.size
  end
  local checks, ranges = {}, {}
  for _, leaf in ipairs(leaves) do
    local n = leaf.node
    if n.op == "eq" and leaf.size > CHECK_EQ * base_size then
      checks[#checks + 1] = n
    elseif n.op == "range" and n.mode ~= "" and leaf.size > CHECK_RANGE * base_size then
      ranges[#ranges + 1] = n
    else
      sets[#sets + 1] = {set = eval(n), size = leaf.size}
    end
  end
  table.sort(sets, smaller)
  -- Numeric loops: an ipairs per candidate and test costs more than the test itself.
  local out, nsets, nchecks, nranges = {}, #sets, #checks, #ranges
  for pk in pairs(base) do
    local keep = true
    for i = 1, nsets do
      if not sets[i].set[pk] then keep = false break end
    end
    if keep then
      for i = 1, nchecks do
        if not holds(checks[i], pk) then keep = false break end
      end
    end
    if keep then
      for i = 1, nranges do
        if not in_range(ranges[i], pk) then keep = false break end
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
    if node.op == "eq" then
      -- Every member of an eq leaf is its entry, NUL, the pk: found by length, not by scanning.
      local e = node.entry
      for _, m in ipairs(redis.call("ZRANGEBYLEX", node.idx, lex_bounds(e))) do out[member_pk(m, e)] = true end
    else
      for _, m in ipairs(redis.call("ZRANGEBYLEX", node.idx, node.low, node.high)) do
        out[pk_after(m, node.parts)] = true
      end
    end
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

-- A lone equality sorted by pk (the plainest query) needs no comparison sort: ZRANGEBYLEX gives
-- its members in byte order of their pks (they share the entry before them), and canonical
-- non-negative ints in byte order, stably grouped by length, are in numeric order. nil: another
-- query, or a pk that is not such an int (then the general way below).
local function eq_by_pk()
  if tree.op ~= "eq" or page or sort_mode ~= "pk" or value_order ~= "int" or pk_order ~= "int" then return nil end
  local e, by_length, longest = tree.entry, {}, 0
  for _, m in ipairs(redis.call("ZRANGEBYLEX", tree.idx, lex_bounds(e))) do
    local pk = member_pk(m, e)
    if not string.find(pk, "^[1-9]%d*$") and pk ~= "0" then return nil end
    local n = #pk
    local group = by_length[n]
    if not group then
      group = {}
      by_length[n] = group
      if n > longest then longest = n end
    end
    group[#group + 1] = pk
  end
  local out = {}
  for n = 1, longest do
    local group = by_length[n]
    if group then
      for _, pk in ipairs(group) do out[#out + 1] = pk end
    end
  end
  if desc then
    for i = 1, math.floor(#out / 2) do out[i], out[#out + 1 - i] = out[#out + 1 - i], out[i] end
  end
  return out
end
local ordered = eq_by_pk()

local pks = ordered or {}
if not ordered then
  for pk in pairs(eval(tree)) do pks[#pks + 1] = pk end
end

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

-- Ints of at most 15 digits are exact doubles: when every int compared (cursor included) is one,
-- they are compared as numbers, one < instead of cmp_int's string work per comparison.
local function short_int(v)
  return #v <= 15 or (#v == 16 and string.byte(v, 1) == 45)
end
local tie_numbers = pk_order == "int" and not (page and page.has_cursor and not short_int(page.pk))
local key_numbers = value_order == "int"
  and not (page and page.has_cursor and page.present and not short_int(page.value))

-- Missing values first, then by value, ties by pk, then by the pk's bytes: a total order, so
-- slices are stable and a page cursor never skips a pk. The last step matters for pks that are
-- equal as values yet stored apart (Decimal "1" and "1.0", one instant at two UTC offsets).
-- -1, 0 or 1: the ascending order of (sort key, tie, pk) triples.
local function compare(ka, ta, pa, kb, tb, pb)
  local c
  if ka == false or kb == false then
    if ka == kb then c = 0 elseif ka == false then c = -1 else c = 1 end
  else
    c = cmp(ka, kb, value_order)
  end
  if c == 0 then c = cmp(ta, tb, pk_order) end
  if c == 0 and pa ~= pb then c = pa < pb and -1 or 1 end
  return c
end
-- Whether two distinct pks can tie in the pk order (see compare): then the fast orders below
-- must break ties by bytes too.
local loose_ties = pk_order == "decimal" or pk_order == "datetime" or pk_order == "float"
local keys, ties, raws = {}, {}, {}
if not ordered then
  local by_pk = sort_mode == "pk" and value_order == pk_order
  local missing, key_of = false, {}
  -- The sort field's values, when they are read from the instances (one table for every pk).
  local known = (sort_mode == "islot" or sort_mode == "string") and cached_values(sort_prefix, sort_slot)
  for _, pk in ipairs(pks) do
    local t
    -- Most int pks are short positive ints: one find checks them (what sort_key checks).
    if tie_numbers and #pk <= 15 and string.find(pk, "^[1-9]%d*$") then
      t = tonumber(pk)
    else
      t = sort_key(pk, pk_order)
      if tie_numbers then
        if short_int(t) then t = tonumber(t) else tie_numbers = false end
      end
    end
    ties[pk] = t
    if by_pk then
      raws[pk], keys[pk] = pk, t
    else
      local v
      if known then
        v = known[pk]
        if v == nil then v = fetch_value(known, sort_mode, sort_prefix, sort_slot, pk) end
      else
        v = read_value(sort_mode, sort_prefix, sort_slot, pk)
      end
      raws[pk] = v
      if v then
        -- Values repeat (ages, statuses...): each one's key is computed once.
        local k = key_of[v]
        if k == nil then
          k = sort_key(v, value_order)
          if key_numbers then
            if short_int(k) then k = tonumber(k) else key_numbers = false end
          end
          key_of[v] = k
        end
        keys[pk] = k
      else
        keys[pk], missing = false, true
      end
    end
  end
  -- A long int met after some were converted: back to the exact strings for every one.
  if pk_order == "int" then
    if tie_numbers then
      pk_order = "float"
    else
      for pk in pairs(ties) do ties[pk] = sort_key(pk, "int") end
    end
  end
  if by_pk then
    keys = ties
    value_order = pk_order
  elseif value_order == "int" then
    if key_numbers then
      value_order = "float"
    else
      for pk, v in pairs(raws) do keys[pk] = v and sort_key(v, "int") or false end
    end
  end

  local less
  if missing or value_order == "int" or pk_order == "int" or loose_ties then
    less = function(a, b)
      local c = compare(keys[a], ties[a], a, keys[b], ties[b], b)
      if desc then return c > 0 end
      return c < 0
    end
  elseif by_pk then
    -- The common case of a plain query: by pk alone, one comparison.
    if desc then less = function(a, b) return ties[a] > ties[b] end
    else less = function(a, b) return ties[a] < ties[b] end end
  else
    -- The same order as compare gives, without its calls: keys and ties compare with < here.
    if desc then
      less = function(a, b)
        local ka, kb = keys[a], keys[b]
        if ka ~= kb then return ka > kb end
        return ties[a] > ties[b]
      end
    else
      less = function(a, b)
        local ka, kb = keys[a], keys[b]
        if ka ~= kb then return ka < kb end
        return ties[a] < ties[b]
      end
    end
  end
  table.sort(pks, less)
end

if page then
  -- Keyset pagination: what comes after the cursor's place in the order, wherever it now is, so
  -- objects added or removed between pages shift nothing.
  local after_pks = pks
  if page.has_cursor then
    local ck = page.present and sort_key(page.value, value_order) or false
    local ct = sort_key(page.pk, pk_order)
    after_pks = {}
    for _, pk in ipairs(pks) do
      local c = compare(ck, ct, page.pk, keys[pk], ties[pk], pk)
      if (desc and c > 0) or (not desc and c < 0) then after_pks[#after_pks + 1] = pk end
    end
  end
  local out, n = {#after_pks}, 1
  local last = nil
  for i = 1, math.min(page.size, #after_pks) do
    local pk = after_pks[i]
    out[n + 1] = pk
    n = append_values(out, n + 1, pk)
    last = pk
  end
  out[n + 1] = last and raws[last] or false -- the sort value of the last item: the next cursor
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
local out, n = {len}, 1
local i = first
while (step > 0 and i < stop) or (step < 0 and i > stop) do
  local pk = pks[i + 1]
  if not bare then
    n = n + 1
    out[n] = pk
  end
  n = append_values(out, n, pk)
  i = i + step
end
return out
