-- Replaces a pending claim of request ARGV[1] with a new one (its job was withdrawn: its request
-- died before publishing, or was answered 503). KEYS[1] the key; ARGV[2] new value, ARGV[3] ttl s.
-- Returns 1 when replaced, 0 when the claim changed meanwhile.
local current = redis.call('GET', KEYS[1])
if current then
  local fp, id, state = string.match(current, '^(%S+) (%S+) (%S+) ')
  if id ~= ARGV[1] or state ~= 'pending' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
