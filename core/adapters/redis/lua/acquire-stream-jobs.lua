-- Leases a client's streamed jobs to one holder, unless the client would stream too many jobs.
-- KEYS[1] the client's leases: a sorted set of "<job id>@<holder>" scored by the lease's end (ms).
-- ARGV[1] the most distinct jobs, ARGV[2] lease ms, ARGV[3] holder, ARGV[4..] job ids.
-- Returns 1, or 0 after changing nothing but dropping leases that had run out.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)

local jobs = {}
local count = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local job = string.match(member, '^(.*)@')
  if job and not jobs[job] then
    jobs[job] = true
    count = count + 1
  end
end
for i = 4, #ARGV do
  if not jobs[ARGV[i]] then
    jobs[ARGV[i]] = true
    count = count + 1
  end
end
if count > tonumber(ARGV[1]) then return 0 end

local ends = string.format('%.0f', now + tonumber(ARGV[2]))
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], ends, ARGV[i] .. '@' .. ARGV[3]) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
