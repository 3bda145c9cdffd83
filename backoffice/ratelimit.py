"""One rate limiter shared by every worker: a sliding 60-second window kept in Redis.

Visma allows about 600 requests per minute per client and endpoint and answers 429 beyond
it. Bouncing off the quota wastes requests and time, so every call to Visma first takes a
slot here; when the window is full the caller waits exactly until the oldest request in it
is a minute old. The window is a sorted set of admission times, checked and updated in one
Lua script (atomic across workers), timed by the Redis server's clock (one clock for all).

Without Redis (the demo's filesystem broker runs a single worker) the same window is kept
in the process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque

from django.conf import settings

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class SlidingWindowLimiter:
    def __init__(self, *, redis_url: str = "", window_seconds: float = 60.0):
        self.window_ms = int(window_seconds * 1000)
        self._redis = None
        self._script = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=5, socket_connect_timeout=5
            )
            self._script = self._redis.register_script(_SCRIPT)
        self._local: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, key: str, limit: int) -> float:
        """Take a slot if one is free: 0.0. Else the seconds until one frees up."""
        if self._script is not None:
            wait_ms = self._script(
                keys=[f"ratelimit:{key}"], args=[self.window_ms, limit, uuid.uuid4().hex]
            )
            return int(wait_ms) / 1000.0
        with self._lock:
            now = time.monotonic()
            window = self.window_ms / 1000.0
            slots = self._local.setdefault(key, deque())
            while slots and slots[0] <= now - window:
                slots.popleft()
            if len(slots) < limit:
                slots.append(now)
                return 0.0
            return max(0.001, slots[0] + window - now)

    def acquire(self, key: str, limit: int, *, max_wait: float = 120.0) -> float:
        """Block until a slot is taken; returns the seconds waited. Raises TimeoutError
        when it would have to wait longer than max_wait in all."""
        waited = 0.0
        while True:
            wait = self.try_acquire(key, limit)
            if wait == 0:
                return waited
            if waited + wait > max_wait:
                raise TimeoutError(f"rate limit {key}: no slot within {max_wait:.0f} s")
            time.sleep(wait)
            waited += wait


_limiter: SlidingWindowLimiter | None = None


def visma_limiter() -> SlidingWindowLimiter:
    global _limiter
    if _limiter is None:
        _limiter = SlidingWindowLimiter(redis_url=settings.REDIS_URL)
    return _limiter


def effective_limit(per_minute: int) -> int:
    """Stay a hair under the quota: requests admitted here reach Visma a few ms later,
    in a slightly different order, and Visma counts arrivals."""
    return max(1, per_minute - max(1, per_minute // 100))
