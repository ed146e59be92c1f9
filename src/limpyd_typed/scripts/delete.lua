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
local models, pos = {}, 3
for m = 1, tonumber(ARGV[2]) do
  local model = {pks = ARGV[pos], fields = {}, inbound = {}}
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

local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return {0, "missing"} end

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

-- 2. Drop the references held by instances that stay.
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

-- 3. Delete every doomed instance: index entries, data keys, pk. The values of a single-valued
-- indexed field are read to find its entry; those in the instance hash by one HMGET.
for _, doomed_one in ipairs(order) do
  local model, p = models[doomed_one[1]], doomed_one[2]
  local epk, ekey = esc_idx(p), esc_key(p)
  local member = "\0" .. epk
  local data, seen, hash_key, slot_fields, slot_names = {}, {}, nil, {}, {}
  for _, field in ipairs(model.fields) do
    local key = field.prefix .. ekey
    if not seen[key] then
      seen[key] = true
      data[#data + 1] = key
    end
    if field.idx ~= "" then
      if field.kind == "islot" then
        hash_key = key
        slot_fields[#slot_fields + 1] = field
        slot_names[#slot_names + 1] = field.slot
      elseif field.kind == "string" then
        local v = redis.call("GET", key)
        if v then redis.call("ZREM", field.idx, esc_idx(norm(v, field.how)) .. member) end
      else
        reindex(field.idx, entries_of(field.kind, key, field.slot, field.how), {}, epk)
      end
    end
  end
  if hash_key then
    local values = call_each("HMGET", hash_key, slot_names)
    for i, field in ipairs(slot_fields) do
      local v = values[i]
      if v then redis.call("ZREM", field.idx, esc_idx(norm(v, field.how)) .. member) end
    end
  end
  for i = 1, #data, CHUNK do redis.call("DEL", unpack(data, i, math.min(i + CHUNK - 1, #data))) end
  redis.call("SREM", model.pks, p)
end
return {1, #order}
