-- Takes a stream slot. KEYS[1] the client's counter; ARGV[1] the most slots, ARGV[2] ttl seconds.
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
return 1
