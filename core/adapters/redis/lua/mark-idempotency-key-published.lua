-- Marks a claim published, if request ARGV[1] still holds it. KEYS[1] the key.
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local fp, id, state, at = string.match(current, '^(%S+) (%S+) (%S+) (%d+)$')
if id ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], fp .. ' ' .. id .. ' published ' .. at, 'KEEPTTL')
return 1
