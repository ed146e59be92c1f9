-- Check that live instances have every index entry their data gives; with ARGV[1] = "1", also add
-- the missing ones. Entries are computed here, from the data as it is now (entries_of, as every
-- write script does), never from a client-side read that may be stale.
-- KEYS[1] = the model's pks set, KEYS[1 + i] = the index of the i-th field spec.
-- ARGV: fix ("0"|"1"), F, then F specs of 4: kind, data key prefix (completed by the escaped pk,
--   same hash tag), hash slot or "", normalisation; then the pks to check (from SSCAN).
-- Returns {live pks checked, {missing: spec number, entry, pk ...}}
local fix, nfields = ARGV[1] == "1", tonumber(ARGV[2])
local specs, pos = {}, 3
for i = 1, nfields do
  specs[i] = {kind = ARGV[pos], prefix = ARGV[pos + 1], slot = ARGV[pos + 2], how = ARGV[pos + 3], idx = KEYS[1 + i]}
  pos = pos + 4
end
local live, missing = 0, {}
for a = pos, #ARGV do
  local pk = ARGV[a]
  -- A pk deleted since the SSCAN has no entries to check.
  if redis.call("SISMEMBER", KEYS[1], pk) == 1 then
    live = live + 1
    local kpk, epk = esc_key(pk), esc_idx(pk)
    for n, s in ipairs(specs) do
      for e in pairs(entries_of(s.kind, s.prefix .. kpk, s.slot, s.how)) do
        local m = e .. "\0" .. epk
        if not redis.call("ZSCORE", s.idx, m) then
          missing[#missing + 1] = n
          missing[#missing + 1] = e
          missing[#missing + 1] = pk
          if fix then redis.call("ZADD", s.idx, 0, m) end
        end
      end
    end
  end
end
return {live, missing}
