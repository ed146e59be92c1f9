-- One write to the fields of one instance, with its index updates, atomically.
-- KEYS[1] = the model's pks set; the other KEYS are data and index keys referenced by position.
-- ARGV[1] = pk; ARGV[2] = F, the number of field specs, then F specs of 6 values:
--   kind (string|islot|hash|set|list|zset), data key position, hash slot (islot) or "",
--   index mode (0 none, 1 indexed, 2 unique), index key position (0 when not indexed),
--   value normalisation for the index ("float" or "")
-- then C, the number of commands, each as: argc, command, key position, args...
-- Returns {1, reply of the last command} | {0, "missing"} | {0, "unique", spec, raw value, holder pk}
local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return {0, "missing"} end
local epk = esc_idx(pk)

local specs, pos = {}, 3
local any_index, any_unique = false, false
for i = 1, tonumber(ARGV[2]) do
  local spec = {
    kind = ARGV[pos], key = KEYS[tonumber(ARGV[pos + 1])], slot = ARGV[pos + 2],
    mode = tonumber(ARGV[pos + 3]), idx = KEYS[tonumber(ARGV[pos + 4])], how = ARGV[pos + 5],
  }
  if spec.mode > 0 then any_index = true end
  if spec.mode == 2 then any_unique = true end
  specs[i] = spec
  pos = pos + 6
end

-- Before: index entries (to diff) and, when a unique clash may force a rollback, raw state.
for _, spec in ipairs(specs) do
  if spec.mode > 0 then spec.old = entries_of(spec.kind, spec.key, spec.slot, spec.how) end
  if any_unique then spec.raw = raw_state(spec.kind, spec.key, spec.slot) end
end

-- The commands themselves. A failing command raises before writing anything, and it runs
-- before any index change, so an error leaves data and indexes as they were.
local reply
local ncmds = tonumber(ARGV[pos]); pos = pos + 1
for _ = 1, ncmds do
  local argc = tonumber(ARGV[pos])
  local args = {ARGV[pos + 1], KEYS[tonumber(ARGV[pos + 2])]}
  for j = 3, argc do args[j] = ARGV[pos + j] end
  reply = redis.call(unpack(args))
  pos = pos + argc + 1
end

if not any_index then return {1, reply} end

for _, spec in ipairs(specs) do
  if spec.mode > 0 then spec.new = entries_of(spec.kind, spec.key, spec.slot, spec.how) end
end
if any_unique then
  for n, spec in ipairs(specs) do
    if spec.mode == 2 then
      for e in pairs(spec.new) do
        if not spec.old[e] then
          local holder = unique_holder(spec.idx, e, epk)
          if holder then
            for _, s in ipairs(specs) do restore(s.kind, s.key, s.slot, s.raw) end
            return {0, "unique", n, unesc_idx(e), holder}
          end
        end
      end
    end
  end
end
for _, spec in ipairs(specs) do
  if spec.mode > 0 then reindex(spec.idx, spec.old, spec.new, epk) end
end
return {1, reply}
