"""Rate limits on atomic cache counters: exact across threads, workers and hosts sharing the cache.

DRF's own throttles read a request history, append to it and write it back, so concurrent
requests overwrite each other's entries and let more through than the rate (issue 16: 86 of 130
at 60/min). Here every request is one atomic increment of a counter that lives for one window,
starting with the window's first request. When the cache cannot count (Redis down), scopes that
cost money (RATE_LIMIT_FAIL_CLOSED) refuse the request; the others let it through.
"""

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from rest_framework import exceptions, status, throttling

# On Redis, one round trip per request: the increment and the start of its window in one atomic
# script (the generic path below takes two: add, then incr).
REDIS_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RateLimitUnavailable(exceptions.APIException):
    """The cache cannot count right now. (An APIException, not a core.errors.ServiceError: DRF
    imports this module while core.errors is still importing DRF.)"""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This is unavailable for a moment. Please try again in a minute."
    default_code = "rate_limit_unavailable"
    wait = 30  # seconds, sent as Retry-After


def parse_rate(rate: str) -> tuple[int, int]:
    """ "5/hour" -> (5, 3600): DRF's rate format (s, m, h, d)."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def hit(key: str, *, limit: int, window: int, fail_closed: bool) -> tuple[bool, int]:
    """Count one request against `key`: (allowed, seconds until the window ends).

    Raises RateLimitUnavailable when the cache cannot count and `fail_closed`; else allows.
    """
    count = _increment(f"ratelimit:{key}", window)
    if count is None:
        if fail_closed:
            raise RateLimitUnavailable()
        return True, 0
    if count <= limit:
        return True, 0
    return False, _seconds_left(f"ratelimit:{key}", window)


def _increment(key: str, window: int) -> int | None:
    """The counter after one atomic increment, or None when the cache does not answer."""
    backend = caches["default"]  # `cache` is a proxy: isinstance would not see the backend
    if isinstance(backend, RedisCache):
        try:
            counter = backend.make_and_validate_key(key)
            return int(get_redis_connection().eval(REDIS_INCREMENT, 1, counter, window))
        except redis.RedisError:  # down, or skipped by core.cache's breaker
            return None
    for _ in range(2):
        cache.add(key, 0, window)  # starts the window; a no-op while it runs
        try:
            # django-redis answers None when Redis is down (DJANGO_REDIS_IGNORE_EXCEPTIONS).
            return cache.incr(key)
        except ValueError:
            continue  # the window ended between add and incr: start the next one
    return None


def _seconds_left(key: str, window: int) -> int:
    ttl = getattr(cache, "ttl", None)  # django-redis knows the counter's expiry; locmem does not
    left = ttl(key) if ttl else None
    return left if isinstance(left, int) and 0 < left <= window else window


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's per-view `throttle_scope` rates (DEFAULT_THROTTLE_RATES), counted by `hit`."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, self._wait = hit(
            key,
            limit=self.num_requests,
            window=self.duration,
            fail_closed=self.scope in settings.RATE_LIMIT_FAIL_CLOSED,
        )
        return allowed

    def wait(self):
        return self._wait
