"""The Redis client under the cache: when Redis is down or frozen, the app answers without it.

django-redis already turns a failed cache call into a miss (DJANGO_REDIS_IGNORE_EXCEPTIONS), but
every call still waits for its socket timeout and logs a traceback. Here the first failure opens
a breaker: for RETRY_SECONDS the cache is skipped at once, then one call asks Redis again. An
outage is one warning line when it starts and one line when Redis answers again (issue 16).
"""

import logging
import threading
import time

import redis

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class CacheUnavailable(redis.ConnectionError):
    """Redis failed a moment ago; it is not asked again before the breaker's retry time."""


class _Breaker:
    def __init__(self):
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._retry_at = 0.0

    def before_call(self) -> None:
        """Raise CacheUnavailable while Redis is known to be down, except for one probe per retry."""
        if self.down_since is None:
            return
        with self._lock:
            now = time.monotonic()
            if self.down_since is None or now >= self._retry_at:
                self._retry_at = now + RETRY_SECONDS  # this call probes; the others keep skipping
                return
        raise CacheUnavailable("Redis is unavailable; it is asked again in a few seconds.")

    def failed(self, exc: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + RETRY_SECONDS
            if self.down_since is None:
                self.down_since = now
                logger.warning(
                    "cache unavailable (%s: %s); answering without it until Redis answers again",
                    type(exc).__name__,
                    exc,
                )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is not None:
                logger.info("cache available again after %.1fs", time.monotonic() - self.down_since)
                self.down_since = None


breaker = _Breaker()


class GuardedRedis(redis.Redis):
    """redis.Redis behind the process-wide breaker (django-redis REDIS_CLIENT_CLASS)."""

    def execute_command(self, *args, **options):
        breaker.before_call()
        try:
            result = super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            breaker.failed(exc)
            raise
        breaker.succeeded()
        return result
