-- Claims a key, or takes over a pending claim older than ARGV[4] ms (its request died before
-- publishing). KEYS[1] the key; ARGV[1] new value, ARGV[2] ttl s, ARGV[3] now ms, ARGV[4] stale ms.
-- The value is `<fingerprint> <request_id> <pending|published> <claimed at ms>`.
local current = redis.call('GET', KEYS[1])
if current then
  local fp, id, state, at = string.match(current, '^(%S+) (%S+) (%S+) (%d+)$')
  if not (state == 'pending' and tonumber(ARGV[3]) - tonumber(at) > tonumber(ARGV[4])) then return current end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
