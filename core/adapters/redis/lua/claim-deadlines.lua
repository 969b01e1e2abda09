-- Takes up to ARGV[2] job ids whose deadline (score) is at or before ARGV[1], removing them.
-- KEYS[1] the deadlines sorted set.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
