-- Claims a key, or returns who holds it. KEYS[1] the key; ARGV[1] new value, ARGV[2] ttl s.
-- The value is `<fingerprint> <request_id> <pending|published> <claimed at ms>`.
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
