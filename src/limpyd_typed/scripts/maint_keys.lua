-- Find the keys of instances that are not live (orphans); with ARGV[1] = "1", also delete them.
-- Creating and deleting an instance are atomic scripts that add or remove its pk with its keys,
-- so a data key whose pk is not in the pks set is never a write in progress.
-- KEYS[1] = the model's pks set, KEYS[1 + i] = a candidate key (from SCAN).
-- ARGV: fix ("0"|"1"), then ARGV[1 + i] = the pk named by KEYS[1 + i].
-- Returns the positions (1-based, among the candidates) of the orphans.
local fix, orphans = ARGV[1] == "1", {}
for i = 2, #KEYS do
  if redis.call("EXISTS", KEYS[i]) == 1 and redis.call("SISMEMBER", KEYS[1], ARGV[i]) == 0 then
    orphans[#orphans + 1] = i - 1
    if fix then redis.call("DEL", KEYS[i]) end
  end
end
return orphans
