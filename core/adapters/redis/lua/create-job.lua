-- Creates a job record and its log's first event in one round trip.
-- KEYS[1] job record, KEYS[2] event log; ARGV[1] type, ARGV[2] now, ARGV[3] ttl,
-- ARGV[4] first event id, ARGV[5] its name, ARGV[6] its data
redis.call('HSET', KEYS[1], 'type', ARGV[1], 'status', 'queued', 'created_at', ARGV[2], 'updated_at', ARGV[2], 'last_id', ARGV[4], 'final', '0')
redis.call('XADD', KEYS[2], ARGV[4], 'e', ARGV[5], 'd', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
