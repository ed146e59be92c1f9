-- One write to the fields of one instance, with its index updates, atomically.
-- KEYS[1] = the model's pks set; the other KEYS are data and index keys referenced by position.
-- ARGV[1] = pk; ARGV[2] = F, the number of field specs, then F specs of 7+ values:
--   kind (string|islot|hash|set|list|zset), data key position, hash slot (islot) or "",
--   index mode (0 none, 1 indexed, 2 unique), index key position (0 when not indexed),
--   value normalisation for the index ("float", "sort:<type>" or ""),
--   S then S members (set, zset) or sub-keys (hash): the only ones the commands can change, so
--   only they are read before and after; S = -1: the commands may change anything, read it all.
-- then C, the number of commands, each as: argc, command, key position, args...
-- Returns {1, reply of the last command} | {0, "missing"} | {0, "unique", spec, raw value, holder pk}
--   | {0, "range", spec, raw value} (INCRBYFLOAT beyond a double: undone)
local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return {0, "missing"} end

-- The most common write, without a table: one single-valued field (string, instance-hash slot),
-- indexed but not unique, given its new value by one SET or HSET (ARGV = pk, 1, the
-- spec at 3..9 with no scope, 1 command at 11..). In a script, tables and closures cost more than
-- the commands; the general path below builds a dozen. Same reads, writes and replies.
if ARGV[2] == "1" and ARGV[6] == "1" and ARGV[9] == "-1" and ARGV[10] == "1"
    and ARGV[13] == ARGV[4] then
  local kind, cmd, argc = ARGV[3], ARGV[12], #ARGV - 11
  local islot = kind == "islot" and cmd == "HSET" and argc == 4 and ARGV[14] == ARGV[5]
  if islot or (kind == "string" and cmd == "SET" and argc == 3) then
    local key, idx, how = KEYS[tonumber(ARGV[4])], KEYS[tonumber(ARGV[7])], ARGV[8]
    local new = islot and ARGV[15] or ARGV[14]
    local old
    if islot then old = redis.call("HGET", key, ARGV[5]) else old = redis.call("GET", key) end
    -- Both entries before the write: a value its index cannot read raises with nothing written.
    local eold, enew = old and index_entry(old, how), index_entry(new, how)
    local reply
    if islot then reply = redis.call("HSET", key, ARGV[5], new) else reply = redis.call("SET", key, new) end
    move_entry(idx, eold, enew, esc_idx(pk))
    return {1, reply}
  end
end

local epk = esc_idx(pk)

local specs, pos = {}, 3
local any_index, any_unique, any_float = false, false, false
for i = 1, tonumber(ARGV[2]) do
  local spec = {
    kind = ARGV[pos], key = KEYS[tonumber(ARGV[pos + 1])], slot = ARGV[pos + 2],
    mode = tonumber(ARGV[pos + 3]), idx = KEYS[tonumber(ARGV[pos + 4])], how = ARGV[pos + 5],
  }
  local nscope = tonumber(ARGV[pos + 6])
  if nscope >= 0 then
    spec.scope = {}
    for j = 1, nscope do spec.scope[j] = ARGV[pos + 6 + j] end
  end
  pos = pos + math.max(nscope, 0)
  -- Single-valued (string, instance-hash slot): one entry at most, held as a string, no table.
  spec.single = spec.kind == "string" or spec.kind == "islot"
  if spec.mode > 0 then any_index = true end
  if spec.mode == 2 then any_unique = true end
  spec.float = spec.how == "float" or spec.how == "sort:float" -- eq or range index of floats
  if spec.float and spec.kind ~= "set" and spec.kind ~= "list" and spec.kind ~= "zset" then any_float = true end
  specs[i] = spec
  pos = pos + 7
end

-- Before: index entries (to diff) and, when the write may have to be undone (a unique clash, a
-- float out of range), raw state.
local undoable = any_unique or any_float
local function read(spec)
  if spec.scope then return scoped_state(spec.kind, spec.key, spec.scope) end
  return raw_state(spec.kind, spec.key, spec.slot)
end
local function entries(spec, raw)
  if spec.single then return raw and index_entry(raw, spec.how) or false end
  if spec.scope then return scoped_entries_from(spec.kind, raw, spec.how) end
  return entries_from(spec.kind, raw, spec.how)
end
for _, spec in ipairs(specs) do
  if spec.mode > 0 or undoable then
    local raw = read(spec) -- one read serves the index diff and the undo
    if undoable then spec.raw = raw end
    if spec.mode > 0 then spec.old = entries(spec, raw) end
  end
end

-- What the commands leave in each single-valued spec, when they say it: a SET of the string, an
-- HSET of the slot. Then the value is not read back. UNKNOWN after any other command on its key.
local UNKNOWN = {}
local function follow(cmd, key, values)
  for _, spec in ipairs(specs) do
    if spec.single and spec.key == key then
      if cmd == "SET" and spec.kind == "string" and #values == 1 then
        spec.known = values[1]
      elseif cmd == "HSET" and spec.kind == "islot" then
        for j = 1, #values, 2 do
          if values[j] == spec.slot then spec.known = values[j + 1] end
        end
      elseif cmd ~= "HSET" then
        spec.known = UNKNOWN
      end
    end
  end
end
local function undo()
  for _, s in ipairs(specs) do
    if s.scope then scoped_restore(s.kind, s.key, s.raw) else restore(s.kind, s.key, s.slot, s.raw) end
  end
end

-- The commands themselves. A failing command raises before writing anything, and it runs
-- before any index change, so an error leaves data and indexes as they were.
local reply
local ncmds = tonumber(ARGV[pos]); pos = pos + 1
for _ = 1, ncmds do
  local argc = tonumber(ARGV[pos])
  local cmd, key, values = ARGV[pos + 1], KEYS[tonumber(ARGV[pos + 2])], {}
  for j = 3, argc do values[j - 2] = ARGV[pos + j] end
  reply = call_values(cmd, key, values)
  if any_index then follow(cmd, key, values) end
  -- Lua holds integer replies as doubles: answer an increment with the stored text, exact.
  if cmd == "INCRBY" or cmd == "DECRBY" then reply = redis.call("GET", key) end
  if cmd == "HINCRBY" then reply = redis.call("HGET", key, values[1]) end
  pos = pos + argc + 1
end

-- INCRBYFLOAT computes in long double: a result beyond a double's range reads back as inf.
if any_float then
  for n, spec in ipairs(specs) do
    if spec.float then
      local values
      if spec.kind ~= "hash" then
        values = {raw_state(spec.kind, spec.key, spec.slot)}
      elseif spec.scope then
        values = call_each("HMGET", spec.key, spec.scope)
      else
        values = redis.call("HVALS", spec.key)
      end
      for _, v in pairs(values) do
        local x = tonumber(v)
        if v and (x == math.huge or x == -math.huge) and not string.find(v, "inf", 1, true) then
          undo()
          return {0, "range", n, v}
        end
      end
    end
  end
end

if not any_index then return {1, reply} end

for _, spec in ipairs(specs) do
  if spec.mode > 0 then
    -- follow() knows what single-valued specs hold; a multi-valued one is read again.
    local known = spec.known
    if not spec.single or known == UNKNOWN then
      spec.new = entries(spec, read(spec))
    elseif known == nil then
      spec.new = spec.old -- no command touched it
    else
      spec.new = entries(spec, known)
    end
  end
end
-- A scoped write reads only the members it names. Where the normalisation maps several members to
-- one entry (Decimal 1 and 1.0, floats 0.0 and -0.0), an entry those members no longer give may
-- still be given by a member the write did not name: read them all then, and keep it.
for _, spec in ipairs(specs) do
  if spec.mode > 0 and spec.scope and spec.how ~= "" and spec.kind ~= "hash" then
    local gone = {}
    for e in pairs(spec.old) do
      if not spec.new[e] then gone[#gone + 1] = e end
    end
    if #gone > 0 then
      local held = entries_from(spec.kind, raw_state(spec.kind, spec.key, spec.slot), spec.how)
      for _, e in ipairs(gone) do
        if held[e] then spec.new[e] = true end
      end
    end
  end
end
if any_unique then
  for n, spec in ipairs(specs) do
    if spec.mode == 2 then
      local added = spec.new
      if spec.single then added = {} if spec.new and spec.new ~= spec.old then added[spec.new] = true end end
      for e in pairs(added) do
        if spec.single or not spec.old[e] then
          local holder = unique_holder(spec.idx, e, epk)
          if holder then
            undo()
            return {0, "unique", n, unesc_idx(e), holder}
          end
        end
      end
    end
  end
end
for _, spec in ipairs(specs) do
  if spec.mode > 0 then
    if not spec.single then
      reindex(spec.idx, spec.old, spec.new, epk)
    else
      move_entry(spec.idx, spec.old, spec.new, epk)
    end
  end
end
return {1, reply}
