-- Check one page of a field's index, in lex order, against the data; with ARGV[1] = "1", also
-- remove the stale entries. One atomic script per page: what it reports or removes is true of the
-- state it reads, whatever other clients write between pages.
-- KEYS[1] = the model's pks set, KEYS[2] = the field's index.
-- ARGV: fix ("0"|"1"), from (a ZRANGEBYLEX bound: "-" for the first page, then "(" .. last
--   member), count, kind, data key prefix (the escaped pk completes it, as in create.lua; same hash
--   tag, same slot), hash slot (islot) or "", normalisation, unique ("0"|"1").
-- Returns {next bound ("" after the last page), members read,
--   {stale: member, live ("1" when the pk is live but does not hold the value) ...},
--   {duplicates: {entry, pk, pk, ...} ...}}
local pks, idx = KEYS[1], KEYS[2]
local fix, count, kind, prefix, slot, how = ARGV[1] == "1", tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local unique = ARGV[8] == "1"
local page = redis.call("ZRANGEBYLEX", idx, ARGV[2], "+", "LIMIT", 0, count)

-- The entries each live pk holds, read once per page; false for a pk that is not live.
local held, UNREADABLE = {}, {}
local function holds(pk, e)
  local entries = held[pk]
  if entries == nil then
    entries = false
    if redis.call("SISMEMBER", pks, pk) == 1 then
      -- A value its index cannot read: its entries are left alone (the instance scan reports it).
      entries = readable_entries(kind, prefix .. esc_key(pk), slot, how) or UNREADABLE
    end
    held[pk] = entries
  end
  if entries == UNREADABLE then return true, true end
  return entries and entries[e] or false, entries ~= false
end

local stale, duplicates, seen = {}, {}, {}
for _, m in ipairs(page) do
  -- An escaped pk holds no NUL byte: the last NUL separates the entry from the pk.
  local e, epk = string.match(m, "^(.*)%z([^%z]*)$")
  if not e then e, epk = m, "" end -- not an entry at all (no NUL): stale, whatever it is
  local pk = unesc_idx(epk)
  local ok, live = holds(pk, e)
  if not ok then
    stale[#stale + 1] = m
    stale[#stale + 1] = live and "1" or "0"
    if fix then redis.call("ZREM", idx, m) end
  elseif unique and not seen[e] then
    -- Every holder of this value (a few at most: more than one is already the problem).
    seen[e] = true
    local low, high = lex_bounds(e)
    local holders = {e}
    for _, other in ipairs(redis.call("ZRANGEBYLEX", idx, low, high, "LIMIT", 0, 16)) do
      local opk = member_pk(other, e)
      if holds(opk, e) then holders[#holders + 1] = opk end
    end
    if #holders > 2 then duplicates[#duplicates + 1] = holders end
  end
end
local next_bound = ""
if #page == count then next_bound = "(" .. page[#page] end
return {next_bound, #page, stale, duplicates}
