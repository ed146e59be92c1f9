-- Shared by every script; mirrors keys.py (key parts) and indexes.py (index entries).
-- The top level of the library: it runs once, when the server loads the library (scripts/__init__.py).

-- Escape one part of an index entry: \0 -> \1\1, \1 -> \1\2 (order-preserving, NUL-free).
local function esc_char(c) if c == "\0" then return "\1\1" end return "\1\2" end
local function unesc_pair(p) if p == "\1\1" then return "\0" end return "\1" end
-- Most parts hold neither byte: a plain find is cheaper than a gsub that replaces nothing (a
-- query reads a pk back from every index member it scans).
local function esc_idx(s)
  if not string.find(s, "\0", 1, true) and not string.find(s, "\1", 1, true) then return s end
  return (string.gsub(s, "[%z\1]", esc_char))
end

local function unesc_idx(s)
  if not string.find(s, "\1", 1, true) then return s end
  return (string.gsub(s, "\1[\1\2]", unesc_pair))
end

-- Escape one component of a key name, exactly like keys.escape_part.
local function esc_key(s)
  -- Most parts (every int pk) need no escape: a find is cheaper than a gsub calling a function.
  if not string.find(s, "[^A-Za-z0-9_%.%-]") then return s end
  return (string.gsub(s, "[^A-Za-z0-9_%.%-]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- The lex range holding exactly the members of entry e (see indexes.equal_range).
local function lex_bounds(e)
  return "[" .. e .. "\0", "(" .. e .. "\1"
end

-- The pk of a member of entry e: what follows "e \0" (found by length, never by scanning).
local function member_pk(m, e)
  return unesc_idx(string.sub(m, #e + 2))
end

-- Variadic commands in chunks: Lua's unpack has a small stack limit.
local CHUNK = 500
local function call_chunked(cmd, key, items)
  for i = 1, #items, CHUNK do
    redis.call(cmd, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
  end
end

-- One command with its values after the key, in chunks when there are many (unpack's limit).
-- Counting commands add up their replies; the others (pushes) answer with their last reply.
local function summed(cmd)
  return cmd == "SADD" or cmd == "SREM" or cmd == "ZADD" or cmd == "ZREM" or cmd == "HSET" or cmd == "HDEL"
end
local function call_values(cmd, key, values)
  if #values <= CHUNK then return redis.call(cmd, key, unpack(values)) end
  local total, reply = 0, nil
  for i = 1, #values, CHUNK do
    reply = redis.call(cmd, key, unpack(values, i, math.min(i + CHUNK - 1, #values)))
    if summed(cmd) then total = total + reply end
  end
  if summed(cmd) then return total end
  return reply
end

-- Order-preserving index entries of range-indexed fields, byte for byte as sortable.py computes
-- them (its docstring describes each encoding): their byte order is the order of the values.
local function sortable_encoders()
  local SORTABLE_FLIP = {["0"] = "9", ["1"] = "8", ["2"] = "7", ["3"] = "6", ["4"] = "5",
                         ["5"] = "4", ["6"] = "3", ["7"] = "2", ["8"] = "1", ["9"] = "0"}
  local SORTABLE_MONTH_DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
  local SORTABLE_DAY_US = 86400000000

  local function sortable_fail(v, how)
    local shown = string.sub(v, 1, 40)
    if #v > 40 then shown = shown .. "..." end
    error("not a stored " .. how .. " value: '" .. (string.gsub(shown, "[%c\128-\255]", "?")) .. "'")
  end

  -- A digit count: one byte n + 1, or \255 and 4 bytes; complemented below zero (longer is lower).
  local function sortable_length(n, neg)
    if n <= 253 then return string.char(neg and 254 - n or n + 1) end
    if neg then return "\0" .. struct.pack(">I4", 4294967295 - n) end
    return "\255" .. struct.pack(">I4", n)
  end

  -- The int encoding of a non-zero integer given by its sign and digits (no leading zero).
  local function sortable_digits(neg, digits)
    if neg then return "<" .. sortable_length(#digits, true) .. (string.gsub(digits, "%d", SORTABLE_FLIP)) end
    return ">" .. sortable_length(#digits, false) .. digits
  end

  -- The int encoding of an integer that a Lua number holds exactly.
  local function sortable_small(n)
    if n == 0 then return "=" end
    if n < 0 then return sortable_digits(true, string.format("%d", -n)) end
    return sortable_digits(false, string.format("%d", n))
  end

  -- The parts of a number's text -?D+(.D+)?([eE][+-]?D+)?: sign, whole, fraction, exponent sign and
  -- digits (fraction and exponent "" when absent); nil when the text is not one.
  local function sortable_number(v)
    local sign, whole, rest = string.match(v, "^(%-?)(%d+)(.*)$")
    if not whole then return nil end
    local frac = string.match(rest, "^%.(%d+)")
    if frac then rest = string.sub(rest, #frac + 2) else frac = "" end
    if rest == "" then return sign, whole, frac, "", "" end
    local esign, edigits = string.match(rest, "^[eE]([+-]?)(%d+)$")
    if not edigits then return nil end
    return sign, whole, frac, esign, edigits
  end

  local function sortable_int(v)
    if v == "0" then return "=" end
    -- The most common ints (positive, up to 253 digits: counts, ages, years): one find, one concatenation.
    if #v <= 253 and string.find(v, "^[1-9]%d*$") then return ">" .. string.char(#v + 1) .. v end
    local sign, digits = string.match(v, "^(%-?)([1-9]%d*)$")
    if not digits then sortable_fail(v, "int") end
    return sortable_digits(sign == "-", digits)
  end

  local function sortable_float(v)
    local x
    if v == "inf" then x = math.huge
    elseif v == "-inf" then x = -math.huge
    elseif sortable_number(v) then x = tonumber(v) + 0.0 -- + 0.0: -0 is 0
    else sortable_fail(v, "float") end
    local p = struct.pack(">d", x)
    local a, b, c, d, e, f, g, h = string.byte(p, 1, 8)
    if a >= 128 then
      return string.char(255 - a, 255 - b, 255 - c, 255 - d, 255 - e, 255 - f, 255 - g, 255 - h)
    end
    return string.char(a + 128) .. string.sub(p, 2)
  end

  local function sortable_decimal(v)
    if v == "Infinity" then return "?" end
    if v == "-Infinity" then return ";" end
    local sign, whole, frac, esign, edigits = sortable_number(v)
    if not whole then sortable_fail(v, "decimal") end
    edigits = string.match(edigits, "^0*(%d*)$")
    if #edigits > 30 then sortable_fail(v, "decimal") end
    local sig = string.match(whole .. frac, "^0*(%d*)$")
    if sig == "" then return "=" end
    -- value = sig x 10^(e - #frac) = 0.digits x 10^A, A = e + shift
    local digits = string.sub(sig, 1, #sig - #string.match(string.reverse(sig), "^0*"))
    local shift, neg = #sig - #frac, sign == "-"
    local exponent -- the int encoding of A, or of -A below zero
    if #edigits <= 15 then
      local a = tonumber(edigits) or 0
      if esign == "-" then a = -a end
      a = a + shift
      exponent = sortable_small(neg and -a or a)
    else
      -- |e| >= 10^15 > |shift|: A has the sign of e and |A| = |e| +- shift, in two exact parts.
      local head, tail = tonumber(string.sub(edigits, 1, -16)), tonumber(string.sub(edigits, -15))
      if esign == "-" then tail = tail - shift else tail = tail + shift end
      if tail >= 1e15 then head, tail = head + 1, tail - 1e15
      elseif tail < 0 then head, tail = head - 1, tail + 1e15 end
      local mag = head > 0 and string.format("%d%015d", head, tail) or string.format("%d", tail)
      exponent = sortable_digits((esign == "-") ~= neg, mag)
    end
    if neg then return "<" .. exponent .. (string.gsub(digits, "%d", SORTABLE_FLIP)) .. ":" end
    return ">" .. exponent .. digits
  end

  -- Days since 0000-03-01 of a valid date (y >= 1), or an error naming v.
  local function sortable_days(v, how, y, m, d)
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
    local last = SORTABLE_MONTH_DAYS[m]
    if m == 2 and y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) then last = 29 end
    if y < 1 or not last or d < 1 or d > last then sortable_fail(v, how) end
    if m <= 2 then y, m = y - 1, m + 9 else m = m - 3 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100)
      + math.floor((153 * m + 2) / 5) + d - 1
  end

  local function sortable_datetime(v)
    local y, mo, d, h, mi, s, rest = string.match(v, "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.*)$")
    if not y then sortable_fail(v, "datetime") end
    local us = string.match(rest, "^%.(%d%d%d%d%d%d)")
    if us then rest = string.sub(rest, 8) else us = "0" end
    local osign, oh, om, orest = string.match(rest, "^([+-])(%d%d):(%d%d)(.*)$")
    if not osign then sortable_fail(v, "datetime") end
    local osec, ous = "0", "0"
    if orest ~= "" then
      osec, orest = string.match(orest, "^:(%d%d)(.*)$")
      if not osec then sortable_fail(v, "datetime") end
      if orest ~= "" then
        ous = string.match(orest, "^%.(%d%d%d%d%d%d)$")
        if not ous then sortable_fail(v, "datetime") end
      end
    end
    local days = sortable_days(v, "datetime", y, mo, d)
    h, mi, s, oh, om, osec = tonumber(h), tonumber(mi), tonumber(s), tonumber(oh), tonumber(om), tonumber(osec)
    if h > 23 or mi > 59 or s > 59 or oh > 23 or om > 59 or osec > 59 then sortable_fail(v, "datetime") end
    local offset = ((oh * 60 + om) * 60 + osec) * 1000000 + tonumber(ous)
    local t = ((h * 60 + mi) * 60 + s) * 1000000 + tonumber(us)
    if osign == "-" then t = t + offset else t = t - offset end
    if t < 0 then days, t = days - 1, t + SORTABLE_DAY_US
    elseif t >= SORTABLE_DAY_US then days, t = days + 1, t - SORTABLE_DAY_US end
    return struct.pack(">I3I5", days, t)
  end

  local function sortable_date(v)
    local y, m, d = string.match(v, "^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    if not y then sortable_fail(v, "date") end
    sortable_days(v, "date", y, m, d)
    return v
  end

  return {int = sortable_int, float = sortable_float, decimal = sortable_decimal,
          datetime = sortable_datetime, date = sortable_date}
end

local SORTABLE = sortable_encoders()

-- The order-preserving entry of the stored value v of kind how ("int", "float", "decimal",
-- "datetime" or "date"), exactly as sortable.sortable(v, how) computes it.
local function sortable(v, how)
  local encode = SORTABLE[how]
  if not encode then error("unknown sortable kind '" .. tostring(how) .. "'") end
  return encode(v)
end

-- The indexed form of a stored value. Floats are indexed by their "%.17g" text (what Python's
-- format(x, ".17g") gives), because INCRBYFLOAT writes "1" where the client writes "1.0".
local function norm_float(v)
  -- "+ 0.0" turns -0 into 0: equal floats must share one entry.
  return string.format("%.17g", tonumber(v) + 0.0)
end

local function norm(v, how)
  if how == "" then return v end
  if how == "float" then return norm_float(v) end
  -- "sort:<type>": the order-preserving bytes of a range index (sortable(), above; sortable.py).
  if string.sub(how, 1, 5) == "sort:" then return sortable(v, string.sub(how, 6)) end
  return v
end

-- The index entry of a stored single value under a normalisation (Field.index_value, in Lua).
local function index_entry(v, how)
  return esc_idx(norm(v, how))
end

-- The pk of an instance other than epk holding entry e in unique index idx, or nil. An escaped
-- pk never contains a NUL byte, so epk = "\0" means "any instance" (one being created).
local NO_PK = "\0"
local function unique_holder(idx, e, epk)
  local low, high = lex_bounds(e)
  local found = redis.call("ZRANGEBYLEX", idx, low, high, "LIMIT", 0, 2)
  for i = 1, #found do
    local holder = string.sub(found[i], #e + 2)
    if holder ~= epk then return unesc_idx(holder) end
  end
  return nil
end

-- Move the one entry of a single-valued field in index idx from old to new (false: none) for the
-- instance epk.
local function move_entry(idx, old, new, epk)
  if old == new then return end
  if old then redis.call("ZREM", idx, old .. "\0" .. epk) end
  if new then redis.call("ZADD", idx, 0, new .. "\0" .. epk) end
end

-- Move index idx from the entries in old to the entries in new for the instance epk.
local function reindex(idx, old, new, epk)
  local removed, added = {}, {}
  for e in pairs(old) do
    if not new[e] then removed[#removed + 1] = e .. "\0" .. epk end
  end
  for e in pairs(new) do
    if not old[e] then
      added[#added + 1] = 0
      added[#added + 1] = e .. "\0" .. epk
    end
  end
  if #removed > 0 then call_chunked("ZREM", idx, removed) end
  if #added > 0 then call_chunked("ZADD", idx, added) end
end

-- The raw value of a field, enough to put it back exactly (a write is undone when it broke a
-- unique constraint: scripts are atomic but do not roll back). Values come as they are stored;
-- hash: flat sub-key, value pairs; zset: flat score, member pairs (as ZADD takes them).
local function raw_state(kind, key, slot)
  if kind == "string" then return redis.call("GET", key) end
  if kind == "islot" then return redis.call("HGET", key, slot) end
  if kind == "hash" then return redis.call("HGETALL", key) end
  if kind == "set" then return redis.call("SMEMBERS", key) end
  if kind == "list" then return redis.call("LRANGE", key, 0, -1) end
  local flat = redis.call("ZRANGE", key, 0, -1, "WITHSCORES")
  local pairs_ = {}
  for i = 1, #flat, 2 do
    pairs_[#pairs_ + 1] = flat[i + 1]
    pairs_[#pairs_ + 1] = flat[i]
  end
  return pairs_
end

-- The index entries of a raw value (as raw_state gives it, or as create receives it): {entry = true}.
local function entries_from(kind, raw, how)
  local out = {}
  if kind == "string" or kind == "islot" then
    if raw then out[index_entry(raw, how)] = true end
  elseif kind == "hash" then
    for i = 1, #raw, 2 do out[esc_idx(raw[i]) .. "\0" .. index_entry(raw[i + 1], how)] = true end
  elseif kind == "zset" then
    for i = 2, #raw, 2 do out[index_entry(raw[i], how)] = true end
  else
    for i = 1, #raw do out[index_entry(raw[i], how)] = true end
  end
  return out
end

local function entries_of(kind, key, slot, how)
  return entries_from(kind, raw_state(kind, key, slot), how)
end

-- entries_of, or nil and why when the data cannot be read as indexed (a value its index cannot
-- order, a key of the wrong type: written outside the library). For the checks, which report it.
local function readable_entries(kind, key, slot, how)
  local ok, found = pcall(entries_of, kind, key, slot, how)
  if ok then return found end
  return nil, tostring(type(found) == "table" and found.err or found)
end

-- The command that fills an empty key of each kind with raw values (as raw_state gives them).
local function fill(kind)
  if kind == "hash" then return "HSET" end
  if kind == "set" then return "SADD" end
  if kind == "list" then return "RPUSH" end
  return "ZADD"
end

local function restore(kind, key, slot, raw)
  if kind == "islot" then
    if raw then redis.call("HSET", key, slot, raw) else redis.call("HDEL", key, slot) end
    return
  end
  redis.call("DEL", key)
  if kind == "string" then
    if raw then redis.call("SET", key, raw) end
  elseif #raw > 0 then
    call_chunked(fill(kind), key, raw)
  end
end

-- Scoped reads: only some members (set, zset) or sub-keys (hash) of a field, for writes that name
-- what they touch (SADD, ZREM, HSET...): their cost follows the write, not the field's size.

-- A read command over many members, in chunks, its replies joined in order.
local function call_each(cmd, key, items)
  local out = {}
  for i = 1, #items, CHUNK do
    local part = redis.call(cmd, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end

-- {member or sub-key = its value or score, or false when absent}
local function scoped_state(kind, key, scope)
  local cmd = ({set = "SMISMEMBER", zset = "ZMSCORE", hash = "HMGET"})[kind]
  local found, out = call_each(cmd, key, scope), {}
  for i, m in ipairs(scope) do
    local v = found[i]
    if kind == "set" then v = v == 1 end
    out[m] = v or false
  end
  return out
end

local function scoped_entries_from(kind, state, how)
  local out = {}
  for m, v in pairs(state) do
    if v then
      if kind == "hash" then
        out[esc_idx(m) .. "\0" .. index_entry(v, how)] = true
      else
        out[index_entry(m, how)] = true
      end
    end
  end
  return out
end

local function scoped_restore(kind, key, state)
  for m, v in pairs(state) do
    if kind == "set" then
      redis.call(v and "SADD" or "SREM", key, m)
    elseif kind == "zset" then
      if v then redis.call("ZADD", key, v, m) else redis.call("ZREM", key, m) end
    else
      if v then redis.call("HSET", key, m, v) else redis.call("HDEL", key, m) end
    end
  end
end
