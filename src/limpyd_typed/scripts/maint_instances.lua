-- Check that live instances have every index entry their data gives; with ARGV[1] = "1", also add
-- the missing ones. Entries are computed here, from the data as it is now (entries_of, as every
-- write script does), never from a client-side read that may be stale.
-- Without fix, a missing entry of a unique field is not added, so the index cannot show that its
-- value is held twice: the script looks for the value's other holders in the index and among the
-- missing entries met so far (noted in a scratch sorted set of the check run, "n \0 entry \0 pk";
-- on a read-only replica, ARGV[1] = "r": nothing noted, other holders found by the index alone).
-- KEYS[1] = the model's pks set, KEYS[1 + i] = the index of the i-th field spec, KEYS[2 + F] =
--   the scratch sorted set.
-- ARGV: mode ("1" fix, "0" check noting in the scratch set, "r" check writing nothing), F, then
--   F specs of 5: kind, data key prefix (completed by the escaped pk, same hash tag), hash slot or
--   "", normalisation, unique ("0"|"1"); then the pks to check (from SSCAN).
-- A value its index cannot read (readable_entries) is reported, its entries left unchecked.
-- Returns {live pks checked, {missing: spec number, entry, pk ...},
--   {duplicates (without fix): {spec number, entry, pk, other pks ...} ...},
--   {unreadable: spec number, pk, error ...}}
local fix, note, nfields = ARGV[1] == "1", ARGV[1] == "0", tonumber(ARGV[2])
local specs, pos = {}, 3
for i = 1, nfields do
  specs[i] = {kind = ARGV[pos], prefix = ARGV[pos + 1], slot = ARGV[pos + 2], how = ARGV[pos + 3],
              unique = ARGV[pos + 4] == "1", idx = KEYS[1 + i]}
  pos = pos + 5
end
local scratch = KEYS[2 + nfields]

-- The live pks other than pk holding entry e of spec s: by the index (each holder checked against
-- its data), then by the scratch set (computed from data in this run).
local function other_holders(n, s, e, pk)
  local found = {}
  local low, high = lex_bounds(e)
  for _, m in ipairs(redis.call("ZRANGEBYLEX", s.idx, low, high, "LIMIT", 0, 16)) do
    local other = member_pk(m, e)
    if other ~= pk and redis.call("SISMEMBER", KEYS[1], other) == 1 then
      local held = readable_entries(s.kind, s.prefix .. esc_key(other), s.slot, s.how)
      if held and held[e] then found[#found + 1] = other end
    end
  end
  local noted = n .. "\0" .. e
  low, high = lex_bounds(noted)
  for _, m in ipairs(redis.call("ZRANGEBYLEX", scratch, low, high, "LIMIT", 0, 16)) do
    local other = member_pk(m, noted)
    -- pk itself when SSCAN returned it in two batches (it may, while the set is resized)
    if other ~= pk then found[#found + 1] = other end
  end
  return found
end

local live, missing, duplicates, unreadable = 0, {}, {}, {}
for a = pos, #ARGV do
  local pk = ARGV[a]
  -- A pk deleted since the SSCAN has no entries to check.
  if redis.call("SISMEMBER", KEYS[1], pk) == 1 then
    live = live + 1
    local kpk, epk = esc_key(pk), esc_idx(pk)
    for n, s in ipairs(specs) do
      -- A value its index cannot read (or a key of the wrong type): reported, its entries unchecked.
      local entries, why = readable_entries(s.kind, s.prefix .. kpk, s.slot, s.how)
      if not entries then
        unreadable[#unreadable + 1] = n
        unreadable[#unreadable + 1] = pk
        unreadable[#unreadable + 1] = why
        entries = {}
      end
      for e in pairs(entries) do
        local m = e .. "\0" .. epk
        if not redis.call("ZSCORE", s.idx, m) then
          missing[#missing + 1] = n
          missing[#missing + 1] = e
          missing[#missing + 1] = pk
          if fix then
            redis.call("ZADD", s.idx, 0, m)
          elseif s.unique then
            local others = other_holders(n, s, e, pk)
            if #others > 0 then duplicates[#duplicates + 1] = {n, e, pk, unpack(others)} end
            if note then
              redis.call("ZADD", scratch, 0, n .. "\0" .. e .. "\0" .. epk)
              redis.call("EXPIRE", scratch, 3600) -- never left behind, even if the checking client dies
            end
          end
        end
      end
    end
  end
end
return {live, missing, duplicates, unreadable}
