-- Read one instance by pk in one call: whether it exists, and the values of some of its fields,
-- atomically (no delete can fall between the check and the reads).
-- KEYS[1] = pks set. ARGV: the pk, then groups: "islot", key prefix, n, n hash slots (one HMGET);
-- "string", key prefix (one GET); or "pk" (the pk itself).
-- Keys of the instance are named from the prefixes in ARGV, which hold the model's hash tag: they
-- live in the same cluster slot as KEYS[1].
-- Returns false when no instance has this pk, else {pk, <the values, in order>} (false: no value).

local pk = ARGV[1]
if redis.call("SISMEMBER", KEYS[1], pk) == 0 then return false end
-- The pk as a key part, as keys.escape_part (and prelude.lua's esc_key) writes it.
local key = pk
if string.find(pk, "[^A-Za-z0-9_%.%-]") then
  key = string.gsub(pk, "[^A-Za-z0-9_%.%-]", function(c) return string.format("%%%02X", string.byte(c)) end)
end
local out = {pk}
local at = 2
while at <= #ARGV do
  local mode = ARGV[at]
  if mode == "islot" then
    local n = tonumber(ARGV[at + 2])
    local values = redis.call("HMGET", ARGV[at + 1] .. key, unpack(ARGV, at + 3, at + 2 + n))
    for j = 1, n do out[#out + 1] = values[j] end
    at = at + 3 + n
  elseif mode == "string" then
    out[#out + 1] = redis.call("GET", ARGV[at + 1] .. key)
    at = at + 2
  else
    out[#out + 1] = pk
    at = at + 1
  end
end
return out
