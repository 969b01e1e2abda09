-- A job's record and its events after a position, in one round trip.
-- KEYS[1] job record, KEYS[2] event log; ARGV[1] XRANGE start ("-" or "(<id>")
-- Returns { record as a flat field/value list, entries as XRANGE gives them }.
local record = redis.call('HGETALL', KEYS[1])
if #record == 0 then return { record, {} } end
return { record, redis.call('XRANGE', KEYS[2], ARGV[1], '+') }
