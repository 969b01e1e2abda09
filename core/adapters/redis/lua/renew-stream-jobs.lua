-- Extends one holder's leases of a client's streamed jobs, taking again any that were lost.
-- KEYS[1] the client's leases (see acquire-stream-jobs.lua); ARGV[1] lease ms, ARGV[2] holder, ARGV[3..] job ids.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ends = string.format('%.0f', now + tonumber(ARGV[1]))
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], ends, ARGV[i] .. '@' .. ARGV[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
