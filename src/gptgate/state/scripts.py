"""The Lua scripts of the Redis ``PoolState`` (each runs atomically in Redis).

Key layout, after the configured prefix (``gptgate:`` by default):

- ``cooldowns``        hash     account -> "<until> <reason>"; also the channel its changes go to
- ``cooldowns:v``      counter  version of the last change to ``cooldowns``
- ``inflight``         hash     account -> requests in flight across every live process
- ``inflight:<proc>``  hash     account -> this process's share of those
- ``procs``            zset     proc id -> expiry (Redis server time, ms), renewed by each sync
- ``sticky:<key>``     string   account, with the binding's TTL
- ``lock:<name>``      string   the holder's random token, with the lock's TTL
- ``unlock``           channel  lock names as they are released
- ``chan:<channel>``   channel  ``publish``/``subscribe``
- ``limit:<name>``     string   a limit counter (requests or tokens in a window), expiring at the
                                window's end
- ``slots:<name>``     zset     "<proc>|<call id>" -> expiry (server ms): a key's open streams

Invariant for leases: ``inflight`` is the sum of the ``inflight:<proc>`` of the processes in
``procs``. A process missing its syncs for the lease TTL is reaped by whoever syncs next: its
counts are subtracted and its hash deleted, so a killed worker's leases do not leak. The
scripts touch keys built from the prefix (not all passed in KEYS), so they need a standalone
Redis (or Sentinel), not Redis Cluster.
"""

from __future__ import annotations

#: Server time in ms, so instances with skewed clocks agree on lease expiry.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

#: KEYS: cooldowns hash, version counter.  ARGV: account, until, reason.  Keeps the later until.
#: Each change takes the next version and publishes "version\naccount\nvalue", so a mirror can
#: put changes in Redis's order whichever way (reply or announcement) it hears of them first.
#: Returns {version, value now stored}; version 0 when nothing changed.
SET_COOLDOWN = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local space = string.find(cur, ' ', 1, true)
  local cur_until = space and tonumber(string.sub(cur, 1, space - 1))
  if cur_until and cur_until >= tonumber(ARGV[2]) then return {0, cur} end
end
local value = ARGV[2] .. ' ' .. ARGV[3]
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], value)
redis.call('PUBLISH', KEYS[1], version .. '\\n' .. ARGV[1] .. '\\n' .. value)
return {version, value}
"""

#: KEYS: cooldowns hash, version counter.  ARGV: account.  An empty value means cleared.
CLEAR_COOLDOWN = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return {0, ''} end
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[1], version .. '\\n' .. ARGV[1] .. '\\n')
return {version, ''}
"""

#: KEYS: cooldowns hash, version counter.  Returns {version, HGETALL} read together.
COOLDOWNS = """
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HGETALL', KEYS[1])}
"""

#: KEYS: procs zset, total hash.  ARGV: own-hash prefix ("<prefix>inflight:"), proc id, lease
#: ttl ms, mode, then account/count pairs.  Reaps expired processes, then by mode: 'sync' makes
#: this process's hash equal to the pairs (adjusting the totals by the difference), renews its
#: registration and returns the totals (HGETALL); 'retire' removes it and its counts.
SYNC = (
    _NOW
    + """
local function bump(account, delta)
  if redis.call('HINCRBY', KEYS[2], account, delta) <= 0 then redis.call('HDEL', KEYS[2], account) end
end
local function reap(proc)
  local own = ARGV[1] .. proc
  local counts = redis.call('HGETALL', own)
  for i = 1, #counts, 2 do bump(counts[i], -tonumber(counts[i + 1])) end
  redis.call('DEL', own)
  redis.call('ZREM', KEYS[1], proc)
end
for _, proc in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)) do reap(proc) end
if ARGV[4] == 'retire' then
  reap(ARGV[2])
  return {}
end
local own = ARGV[1] .. ARGV[2]
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
local old = {}
local have = redis.call('HGETALL', own)
for i = 1, #have, 2 do old[have[i]] = tonumber(have[i + 1]) end
for i = 5, #ARGV, 2 do
  local account, n = ARGV[i], tonumber(ARGV[i + 1])
  local was = old[account] or 0
  if n ~= was then bump(account, n - was) end
  old[account] = nil
end
for account, was in pairs(old) do bump(account, -was) end
redis.call('DEL', own)
if #ARGV >= 5 then redis.call('HSET', own, unpack(ARGV, 5)) end
return redis.call('HGETALL', KEYS[2])
"""
)

#: KEYS: lock key.  ARGV: token, ttl ms.  Returns ACQUIRED, or the holder's remaining TTL in ms
#: (-2 when it vanished in between: try again at once).
ACQUIRED = -3
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -3 end
return redis.call('PTTL', KEYS[1])
"""

#: KEYS: lock key.  ARGV: token, unlock channel, lock name.  Compare-and-delete: a holder whose
#: TTL ran out (and whose lock another now holds) deletes nothing. Returns 1 if it released.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
"""

#: KEYS: n check counters, then (with a slot) the slots zset and the procs zset.
#: ARGV: n, has slot (1/0), n x (limit, add, ends at ms), then slot limit, member, ttl ms, proc,
#: lease ttl ms. Returns 0 when admitted (adds counted, slot taken), else the 1-based index of
#: the first check at its limit, or n + 1 for a full slot set. A full set is first swept of
#: members whose process has stopped renewing its registration in ``procs`` (crashed): a dead
#: worker's streams free their slots within the lease TTL instead of the slot TTL.
LIMIT_ADMIT = (
    _NOW
    + """
local n = tonumber(ARGV[1])
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[3 * i]) then return i end
end
if ARGV[2] == '1' then
  local slots, procs, base = KEYS[n + 1], KEYS[n + 2], 3 * n + 3
  local limit, member, ttl, proc = tonumber(ARGV[base]), ARGV[base + 1], tonumber(ARGV[base + 2]), ARGV[base + 3]
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', '(' .. now)
  if redis.call('ZCARD', slots) >= limit then
    for _, m in ipairs(redis.call('ZRANGE', slots, 0, -1)) do
      local owner = string.sub(m, 1, (string.find(m, '|', 1, true) or 1) - 1)
      local alive = redis.call('ZSCORE', procs, owner)
      if owner ~= proc and (not alive or tonumber(alive) < now) then redis.call('ZREM', slots, m) end
    end
    if redis.call('ZCARD', slots) >= limit then return n + 1 end
  end
  redis.call('ZADD', slots, now + ttl, member)
  redis.call('PEXPIRE', slots, ttl)
  redis.call('ZADD', procs, 'GT', now + tonumber(ARGV[base + 4]), proc)
end
for i = 1, n do
  local add = tonumber(ARGV[3 * i + 1])
  if add > 0 then
    redis.call('INCRBY', KEYS[i], add)
    redis.call('PEXPIREAT', KEYS[i], ARGV[3 * i + 2])
  end
end
return 0
"""
)

#: KEYS: (with a slot) the slots zset, then the counters.  ARGV: has slot (1/0), slot member,
#: then per counter (add, ends at ms).
LIMIT_CLOSE = """
local first = 1
if ARGV[1] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  first = 2
end
for i = first, #KEYS do
  local j = 2 * (i - first) + 3
  redis.call('INCRBY', KEYS[i], ARGV[j])
  redis.call('PEXPIREAT', KEYS[i], ARGV[j + 1])
end
return 0
"""
