-- Delete one instance with every key it owns and every index entry it holds, and propagate the
-- delete along the relations pointing to it (on_delete), all atomically: a protected reference
-- refuses the whole delete before anything is written.
-- KEYS[1] = the pks set of the instance's model, then the instance's own data keys and the index
-- keys of its model: every key the delete of the instance itself touches. A propagation along
-- relations (cascade, set-null) touches keys of other models, found here at run time, which no
-- client can declare beforehand (like the instances found by a query).
-- ARGV[1] = pk, ARGV[2] = N models; model 1 is the instance's, the others those reached through
-- relations. Each model: pks key, F fields then F x (kind, key prefix, slot, index key or "",
-- normalisation), then R inbound relations then R x (source model, source field, on_delete).
-- Returns {1, deleted count} | {0, "missing"} | {0, "protected", model, field, pk, referrer pk}
--
-- Cost: tables and new strings are what a script pays most for; the common delete (no relation
-- points to the model) reads its field descriptors where they lie in ARGV and builds no plan.
local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return {0, "missing"} end

-- Model 1's description: pks key at ARGV[3], F at ARGV[4], field f at ARGV[field_at(f)], then R.
local function field_at(f) return 5 + (f - 1) * 5 end
local nfields1 = tonumber(ARGV[4])

-- What deleting instance p of the model whose pks key is ARGV[base] (its F at ARGV[base + 1], its
-- fields after) removes: its data keys, and its index entries (index key, member pairs). Reads
-- only: every read of a delete runs before its first write, so that a read failing (a key of the
-- wrong type, written by hand) leaves everything as it was. The values of single-valued indexed
-- fields are read to find their entries, those in the instance hash by one HMGET.
local function read_one(base, p)
  local epk, ekey = esc_idx(p), esc_key(p)
  local member = "\0" .. epk
  local data, entries, hash_key, slot_at, slot_names = {}, {}, nil, nil, nil
  for f = 1, tonumber(ARGV[base + 1]) do
    local fp = base + 2 + (f - 1) * 5
    local kind, idx = ARGV[fp], ARGV[fp + 3]
    local key = ARGV[fp + 1] .. ekey
    local known = false
    for i = 1, #data do if data[i] == key then known = true end end
    if not known then data[#data + 1] = key end
    if idx ~= "" then
      if kind == "islot" then
        hash_key = key
        slot_at = slot_at or {}
        slot_names = slot_names or {}
        slot_at[#slot_at + 1] = fp
        slot_names[#slot_names + 1] = ARGV[fp + 2]
      elseif kind == "string" then
        local v = redis.call("GET", key)
        if v then
          entries[#entries + 1] = idx
          entries[#entries + 1] = index_entry(v, ARGV[fp + 4]) .. member
        end
      else
        for e in pairs(entries_of(kind, key, ARGV[fp + 2], ARGV[fp + 4])) do
          entries[#entries + 1] = idx
          entries[#entries + 1] = e .. member
        end
      end
    end
  end
  if hash_key then
    local values = call_each("HMGET", hash_key, slot_names)
    for i, fp in ipairs(slot_at) do
      local v = values[i]
      if v then
        entries[#entries + 1] = ARGV[fp + 3]
        entries[#entries + 1] = index_entry(v, ARGV[fp + 4]) .. member
      end
    end
  end
  return {base = base, pk = p, data = data, entries = entries}
end

-- Delete what read_one found: index entries, data keys, pk.
local function write_one(found)
  local entries, data = found.entries, found.data
  for i = 1, #entries, 2 do redis.call("ZREM", entries[i], entries[i + 1]) end
  for i = 1, #data, CHUNK do redis.call("DEL", unpack(data, i, math.min(i + CHUNK - 1, #data))) end
  redis.call("SREM", ARGV[found.base], found.pk)
end

if tonumber(ARGV[field_at(nfields1 + 1)]) == 0 then -- no relation points to the model
  write_one(read_one(3, pk))
  return {1, 1}
end

-- Relations point to the model: every model the delete may reach, as tables.
local models, pos = {}, 3
for m = 1, tonumber(ARGV[2]) do
  local model = {pks = ARGV[pos], base = pos, fields = {}, inbound = {}}
  local nfields = tonumber(ARGV[pos + 1])
  pos = pos + 2
  for f = 1, nfields do
    model.fields[f] = {kind = ARGV[pos], prefix = ARGV[pos + 1], slot = ARGV[pos + 2], idx = ARGV[pos + 3],
                       how = ARGV[pos + 4]}
    pos = pos + 5
  end
  local ninbound = tonumber(ARGV[pos])
  pos = pos + 1
  for i = 1, ninbound do
    model.inbound[i] = {model = tonumber(ARGV[pos]), field = tonumber(ARGV[pos + 1]), mode = ARGV[pos + 2]}
    pos = pos + 3
  end
  models[m] = model
end

-- The pks of the instances of model m whose field f holds `held` (read from f's index).
local function referrers(m, f, held)
  local e = esc_idx(held)
  local lo, hi = lex_bounds(e)
  local out = {}
  for _, member in ipairs(redis.call("ZRANGEBYLEX", models[m].fields[f].idx, lo, hi)) do
    out[#out + 1] = member_pk(member, e)
  end
  return out
end

-- 1. Plan, reading only: every instance to delete (cascades), every reference to drop.
local doomed, order, drops, protected = {}, {}, {}, {}
local function doom(m, p)
  local id = m .. "\0" .. p
  if doomed[id] then return end
  doomed[id] = true
  order[#order + 1] = {m, p}
end
doom(1, pk)
local i = 1
while i <= #order do
  local m, p = order[i][1], order[i][2]
  for _, rel in ipairs(models[m].inbound) do
    for _, ref in ipairs(referrers(rel.model, rel.field, p)) do
      if rel.mode == "cascade" then
        doom(rel.model, ref)
      elseif rel.mode == "protect" then
        protected[#protected + 1] = {rel.model, rel.field, p, ref}
      else
        drops[#drops + 1] = {rel.model, rel.field, p, ref}
      end
    end
  end
  i = i + 1
end
-- A protected reference held by an instance deleted anyway does not protect.
for _, hit in ipairs(protected) do
  if not doomed[hit[1] .. "\0" .. hit[4]] then
    return {0, "protected", hit[1], hit[2], hit[3], hit[4]}
  end
end

-- 2. Read what every doomed instance holds, and check the keys of the references to drop, before
-- anything is written (a key of the wrong type raises here, with nothing written).
local TYPES = {islot = "hash", string = "string", set = "set", list = "list", zset = "zset"}
local found = {}
for n, doomed_one in ipairs(order) do
  found[n] = read_one(models[doomed_one[1]].base, doomed_one[2])
end
for _, drop in ipairs(drops) do
  local field = models[drop[1]].fields[drop[2]]
  local key = field.prefix .. esc_key(drop[4])
  local kind = redis.call("TYPE", key).ok
  if kind ~= "none" and kind ~= TYPES[field.kind] then
    return redis.error_reply("WRONGTYPE " .. key .. " holds a " .. kind .. ", not a " .. TYPES[field.kind])
  end
end

-- 3. Drop the references held by instances that stay.
for _, drop in ipairs(drops) do
  local m, f, held, ref = drop[1], drop[2], drop[3], drop[4]
  if not doomed[m .. "\0" .. ref] then
    local field = models[m].fields[f]
    local key = field.prefix .. esc_key(ref)
    if field.kind == "islot" then
      redis.call("HDEL", key, field.slot)
    elseif field.kind == "string" then
      redis.call("DEL", key)
    elseif field.kind == "set" then
      redis.call("SREM", key, held)
    elseif field.kind == "list" then
      redis.call("LREM", key, 0, held)
    else
      redis.call("ZREM", key, held)
    end
    redis.call("ZREM", field.idx, esc_idx(held) .. "\0" .. esc_idx(ref))
  end
end

-- 4. Delete every doomed instance.
for n = 1, #order do write_one(found[n]) end
return {1, #order}
