-- Shared by every script; mirrors keys.py (key parts) and indexes.py (index entries).

-- Escape one part of an index entry: \0 -> \1\1, \1 -> \1\2 (order-preserving, NUL-free).
local ESC = {["\0"] = "\1\1", ["\1"] = "\1\2"}
local UNESC = {["\1\1"] = "\0", ["\1\2"] = "\1"}
local function esc_idx(s)
  return (string.gsub(s, "[%z\1]", ESC))
end

local function unesc_idx(s)
  return (string.gsub(s, "\1[\1\2]", UNESC))
end

-- Escape one component of a key name, exactly like keys.escape_part.
local function esc_key(s)
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
local SUMMED = {SADD = true, SREM = true, ZADD = true, ZREM = true, HSET = true, HDEL = true}
local function call_values(cmd, key, values)
  if #values <= CHUNK then return redis.call(cmd, key, unpack(values)) end
  local total, reply = 0, nil
  for i = 1, #values, CHUNK do
    reply = redis.call(cmd, key, unpack(values, i, math.min(i + CHUNK - 1, #values)))
    if SUMMED[cmd] then total = total + reply end
  end
  if SUMMED[cmd] then return total end
  return reply
end

-- The indexed form of a stored value. Floats are indexed by their "%.17g" text (what Python's
-- format(x, ".17g") gives), because INCRBYFLOAT writes "1" where the client writes "1.0".
local function norm(v, how)
  -- "+ 0.0" turns -0 into 0: equal floats must share one entry.
  if how == "float" then return string.format("%.17g", tonumber(v) + 0.0) end
  return v
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
    if raw then out[esc_idx(norm(raw, how))] = true end
  elseif kind == "hash" then
    for i = 1, #raw, 2 do out[esc_idx(raw[i]) .. "\0" .. esc_idx(norm(raw[i + 1], how))] = true end
  elseif kind == "zset" then
    for i = 2, #raw, 2 do out[esc_idx(norm(raw[i], how))] = true end
  else
    for i = 1, #raw do out[esc_idx(norm(raw[i], how))] = true end
  end
  return out
end

local function entries_of(kind, key, slot, how)
  return entries_from(kind, raw_state(kind, key, slot), how)
end

-- The command that fills an empty key of each kind with raw values (as raw_state gives them).
local FILL = {hash = "HSET", set = "SADD", list = "RPUSH", zset = "ZADD"}

local function restore(kind, key, slot, raw)
  if kind == "islot" then
    if raw then redis.call("HSET", key, slot, raw) else redis.call("HDEL", key, slot) end
    return
  end
  redis.call("DEL", key)
  if kind == "string" then
    if raw then redis.call("SET", key, raw) end
  elseif #raw > 0 then
    call_chunked(FILL[kind], key, raw)
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
        out[esc_idx(m) .. "\0" .. esc_idx(norm(v, how))] = true
      else
        out[esc_idx(norm(m, how))] = true
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
