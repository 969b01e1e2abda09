-- Leases up to ARGV[2] job ids whose deadline (score) is at or before ARGV[1]: each stays in the
-- set with its score moved to ARGV[3] (the lease's end), so if the claimer dies before settling it
-- (removing it once the timeout is written), the deadline is due again and another instance takes it.
-- KEYS[1] the deadlines sorted set.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id) end
return due
