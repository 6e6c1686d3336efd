"""A bounded number of calls in flight to each upstream service, per process.

A hung upstream holds every thread that calls it until the call times out; with enough callers,
no thread is left for anything else (issue 16: 12 mints against a silent upstream made the
health check, the history and the weather wait). With at most UPSTREAM_MAX_CONCURRENT calls
per service in flight, a further call is refused at once with a sentence (503), and the worker's
other threads keep answering. Wrap each upstream call:

    with upstream_slot("voice service"):
        response = ...
"""

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.conf import settings

from core.errors import UpstreamError

logger = logging.getLogger(__name__)

RETRY_AFTER = 10
_slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextlib.contextmanager
def upstream_slot(service: str) -> Iterator[None]:
    """Hold one of the service's slots for the duration of a call; UpstreamError (503) when all
    are taken."""
    limit = settings.UPSTREAM_MAX_CONCURRENT
    slots = _semaphore(service, limit)
    if not slots.acquire(blocking=False):
        logger.warning("%s: %d calls already in flight; another one refused", service, limit)
        raise UpstreamError(
            f"The {service} is answering slowly right now. Please try again in a moment.",
            status_code=503,
            retry_after=RETRY_AFTER,
        )
    try:
        yield
    finally:
        slots.release()


def _semaphore(service: str, limit: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault((service, limit), threading.BoundedSemaphore(limit))
