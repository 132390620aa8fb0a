package store

import "github.com/redis/go-redis/v9"

// Every status change runs as one Lua script so it is atomic with respect to
// every other change: a DELETE racing a worker's start sees either "queued"
// (and wins) or "running" (and gets 409), never half of each.
//
// KEYS[1] job hash, KEYS[2..5] the queued, running, succeeded, failed indexes
// (same order as jobs.Statuses), KEYS[6] the all-jobs index.

// startScript: ARGV id, now. Moves queued/running to running and counts the
// attempt. Running is accepted because a task redelivered after a worker
// died still says "running".
var startScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'gone'} end
if st == 'succeeded' or st == 'failed' then return {'done', st} end
local idx = {queued=KEYS[2], running=KEYS[3]}
redis.call('ZREM', idx[st], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[2])
return {'ok', redis.call('HGET', KEYS[1], 'kind'), redis.call('HGET', KEYS[1], 'input'), tostring(n)}
`)

// finishScript: ARGV id, new status (succeeded|failed|queued), now, result,
// error. Applies only to a running job, so a late or duplicate worker
// cannot overwrite a finished record.
var finishScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'running' then return 0 end
local idx = {queued=KEYS[2], running=KEYS[3], succeeded=KEYS[4], failed=KEYS[5]}
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', idx[ARGV[2]], 0, ARGV[1])
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'error', ARGV[5])
if ARGV[2] == 'queued' then return 1 end
redis.call('HSET', KEYS[1], 'finished_at', ARGV[3])
if ARGV[2] == 'succeeded' then redis.call('HSET', KEYS[1], 'result', ARGV[4]) end
return 1
`)

// deleteScript: ARGV id. Deletes a job only while it has never started.
var deleteScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not f[1] then return {'missing'} end
if f[1] ~= 'queued' or tonumber(f[2]) ~= 0 then return {'started', f[1], f[2]} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
return {'deleted'}
`)
