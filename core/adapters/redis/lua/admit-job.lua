-- A worker asks to run a job: marks it taken (so withdraw-job.lua leaves it alone) unless it is
-- final or gone. KEYS[1] job record. Returns 1 to run it, 0 to skip it.
local final = redis.call('HGET', KEYS[1], 'final')
if final == false or final == '1' then return 0 end
redis.call('HSET', KEYS[1], 'taken', '1')
return 1
