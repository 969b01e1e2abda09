-- One hit in a fixed window. KEYS[1] the window's counter; ARGV[1] its ttl in seconds.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
