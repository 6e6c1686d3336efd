"""Project-wide views: health check and error pages that answer JSON to API clients."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/realtime/", "/live/")


def _wants_json(request) -> bool:
    return request.path.startswith(JSON_PREFIXES)


@login_not_required
@never_cache
def healthz(request):
    """200 when the database answers; for load balancers and `make run` start-up checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("health check: database unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
def page_not_found(request, exception):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


@login_not_required
def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Something went wrong on our side. Please try again."}, status=500)
    return defaults.server_error(request)
