-- Appends one event to a job's log in one atomic, idempotent step, and notifies the job's
-- channel in the format of core/protocol/notification.ts (`id\nevent\ndata`).
-- KEYS[1] job record (hash), KEYS[2] event log (stream), KEYS[3] notification channel
-- ARGV[1] event id "<attempt>-<seq>", ARGV[2] event name, ARGV[3] data (JSON),
-- ARGV[4] "1" when final, ARGV[5] now (ISO 8601), ARGV[6] ttl seconds,
-- ARGV[7] "1" to accept a gap in the sequence, ARGV[8] PUBLISH, or SPUBLISH on Redis Cluster (the
-- channel then lives on the job's own shard), ARGV[9] "1" when a worker admits the job with this
-- event (marks it taken, whatever becomes of the event: see withdraw-job.lua), ARGV[10..] record
-- fields to set, as name/value pairs
local state = redis.call('HMGET', KEYS[1], 'last_id', 'final')
local last = state[1]
if not last then return 'unknown-job' end
if state[2] == '1' then return 'after-final' end
if ARGV[9] == '1' then redis.call('HSET', KEYS[1], 'taken', '1') end

-- The ordering rules of core/protocol/event-id.ts (compareEventIds, follows).
local la, ls = string.match(last, '^(%d+)-(%d+)$')
local a, s = string.match(ARGV[1], '^(%d+)-(%d+)$')
la, ls, a, s = tonumber(la), tonumber(ls), tonumber(a), tonumber(s)
local id = ARGV[1]
if a < la or (a == la and s <= ls) then
  -- A final event whose id the log holds for another event comes from a redelivered attempt that
  -- went another way (it succeeded where the first delivery was retried). It is still the job's
  -- only final: it is logged as the next event, not dropped. Anything else is a repeat.
  if ARGV[4] ~= '1' then return 'duplicate' end
  id = la .. '-' .. (ls + 1)
-- Replies of one job can reach competing listeners out of order; an event whose predecessor
-- is not logged yet waits for it (the caller retries), so the log keeps every event in order.
elseif ARGV[7] ~= '1' and ((a == la and s ~= ls + 1) or (a > la and s ~= 1)) then
  return 'gap'
end

redis.call('XADD', KEYS[2], id, 'e', ARGV[2], 'd', ARGV[3])
local fields = { 'last_id', id, 'final', ARGV[4], 'updated_at', ARGV[5] }
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call(ARGV[8], KEYS[3], id .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
return 'appended'
