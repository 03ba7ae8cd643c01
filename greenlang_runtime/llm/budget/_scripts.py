"""The budget's Redis operations, each one Lua script: atomic, never read-then-write.

Amounts are whole nano-USD (1e-9 USD), so that Redis adds them exactly and
``committed + reserved + amount <= limit`` is decided without rounding.

Keys of one scope and period (one hash slot, by their common ``{...}`` tag):

- ``committed``: the period's settled spend (an integer counter);
- ``reserved``: the sum of the amounts in ``amounts`` (an integer counter);
- ``held``: a sorted set of reservation ids, scored by their expiry in
  milliseconds of the Redis server's own clock (``TIME``), so that replicas
  whose clocks differ agree on what has expired;
- ``amounts``: a hash of reservation id -> amount.

Every script first releases the reservations past their expiry, so an
expired reservation never counts. Every write sets the keys to expire
``ttl`` seconds later: a while after the period's end, never during it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["READ", "REFRESH", "RESERVE", "SETTLE"]

# Releases at most 1000 expired reservations per operation (unpack's limit is
# a few thousand): more are released by the next operations.
_RELEASE_EXPIRED: Final = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
if #expired > 0 then
  local amounts = redis.call('HMGET', KEYS[4], unpack(expired))
  local freed = 0
  for _, amount in ipairs(amounts) do
    if amount then freed = freed + tonumber(amount) end
  end
  redis.call('ZREM', KEYS[3], unpack(expired))
  redis.call('HDEL', KEYS[4], unpack(expired))
  if freed > 0 then redis.call('DECRBY', KEYS[2], freed) end
end
local committed = tonumber(redis.call('GET', KEYS[1]) or '0')
local reserved = tonumber(redis.call('GET', KEYS[2]) or '0')
"""

_EXPIRE_ALL: Final = """
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ttl) end
"""

# KEYS: committed, reserved, held, amounts.
# ARGV: id, amount, limit, hold milliseconds, ttl seconds.
# -> {1 admitted | 0 refused, committed, reserved} (reserved includes this one when admitted).
RESERVE: Final = (
    _RELEASE_EXPIRED
    + """
local amount = tonumber(ARGV[2])
if committed + reserved + amount > tonumber(ARGV[3]) then
  return {0, committed, reserved}
end
local ttl = tonumber(ARGV[5])
if amount > 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
  redis.call('HSET', KEYS[4], ARGV[1], amount)
  reserved = redis.call('INCRBY', KEYS[2], amount)
  """
    + _EXPIRE_ALL
    + """
end
return {1, committed, reserved}
"""
)

# KEYS: committed, reserved, held, amounts.  ARGV: id, actual cost, ttl seconds.
# Replaces the reservation (if it is still held) by the actual cost.
# -> {committed, reserved, the amount that was held or -1 when none was}.
SETTLE: Final = (
    _RELEASE_EXPIRED
    + """
local held = redis.call('HGET', KEYS[4], ARGV[1])
if held then
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  reserved = redis.call('DECRBY', KEYS[2], held)
end
local actual = tonumber(ARGV[2])
if actual > 0 then committed = redis.call('INCRBY', KEYS[1], actual) end
local ttl = tonumber(ARGV[3])
"""
    + _EXPIRE_ALL
    + """
return {committed, reserved, tonumber(held or '-1')}
"""
)

# KEYS: committed, reserved, held, amounts.  ARGV: hold milliseconds, ids...
# Moves the expiry of the reservations still held (a call still running).
# -> {committed, reserved}.
REFRESH: Final = (
    _RELEASE_EXPIRED
    + """
local expiry = now + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[3], 'XX', expiry, ARGV[i])
end
return {committed, reserved}
"""
)

# KEYS: committed, reserved, held, amounts.  -> {committed, reserved}.
READ: Final = (
    _RELEASE_EXPIRED
    + """
return {committed, reserved}
"""
)
