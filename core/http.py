"""The one outbound HTTP client: explicit timeouts, failures turned into UpstreamError."""

import logging
import time
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from core.errors import UpstreamError
from core.upstream_slots import upstream_slot

logger = logging.getLogger(__name__)

_client: httpx.Client | None = None


def client() -> httpx.Client:
    """The process-wide client; it pools connections and is safe to share between threads."""
    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=httpx.Timeout(settings.UPSTREAM_TIMEOUT, connect=settings.UPSTREAM_CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
        )
    return _client


def send(method: str, url: str, *, service: str, **kwargs) -> httpx.Response:
    """Send one request and return the response, whatever its status.

    Raises UpstreamError (504 on a timeout, 502 when the service cannot be reached).
    """
    host = urlsplit(url).netloc
    started = time.monotonic()
    try:
        with upstream_slot(service):
            response = client().request(method, url, **kwargs)
    except httpx.TimeoutException:
        logger.warning("%s %s %s timed out after %.2fs", service, method, host, time.monotonic() - started)
        raise UpstreamError(
            f"The {service} did not answer in time. Please try again.", status_code=504
        ) from None
    except httpx.HTTPError as exc:
        logger.warning("%s %s %s failed: %s", service, method, host, type(exc).__name__)
        raise UpstreamError(f"The {service} cannot be reached right now. Please try again later.") from None
    if response.status_code >= 400:
        logger.warning(
            "%s %s %s answered %s in %.2fs",
            service,
            method,
            host,
            response.status_code,
            time.monotonic() - started,
        )
    return response
