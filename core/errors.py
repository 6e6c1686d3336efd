"""Domain errors and the one place that turns them into API responses."""

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ServiceError(Exception):
    """A failure the user can be told about in one sentence."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.retry_after = retry_after


class UpstreamError(ServiceError):
    """An upstream service (OpenAI, Open-Meteo) failed, timed out or refused us."""

    status_code = status.HTTP_502_BAD_GATEWAY

    def __init__(self, message: str, *, upstream_status: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.upstream_status = upstream_status


class QuotaExceeded(ServiceError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS


def error_response(message: str, status_code: int, *, retry_after: int | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return Response({"detail": message}, status=status_code, headers=headers)


def exception_handler(exc, context):
    """DRF's handler, plus our ServiceErrors and oversized bodies as {"detail": sentence}."""
    if isinstance(exc, ServiceError):
        return error_response(exc.message, exc.status_code, retry_after=exc.retry_after)
    if isinstance(exc, RequestDataTooBig):
        return error_response("The request body is too large.", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)
