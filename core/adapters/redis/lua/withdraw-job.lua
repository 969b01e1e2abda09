-- Takes back a job whose publish was not confirmed, unless a worker took it (append-event.lua, admitting).
-- KEYS[1] job record, KEYS[2] event log. Returns 'taken' (the job stays) or 'withdrawn'.
if redis.call('HGET', KEYS[1], 'taken') == '1' then return 'taken' end
redis.call('DEL', KEYS[1], KEYS[2])
return 'withdrawn'
