-- Claims an email for a request. KEYS[1] the email's key; ARGV[1] request id, ARGV[2] user JSON.
-- Returns the stored user JSON when this request owns the email, false when another does.
local existing = redis.call('GET', KEYS[1])
if existing then
  if cjson.decode(existing).request_id == ARGV[1] then return existing end
  return false
end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
