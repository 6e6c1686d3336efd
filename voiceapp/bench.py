"""Baseline endpoints for `make bench`, mounted only when BENCH_ENDPOINTS is on (never in production)."""

import json
import time
import tracemalloc
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.models import Turn

# What one exported turn carries; the raw baseline reads the same columns in the same order.
RAW_TURN_FIELDS = [
    "item_id",
    "previous_item_id",
    "session",
    "position",
    "role",
    "status",
    "text",
    "tool_name",
    "call_id",
    "arguments",
    "output",
    "started_at",
    "ended_at",
    "audio_end_ms",
    "created_at",
]


@extend_schema(exclude=True)
class NoopView(APIView):
    """Does nothing behind the default authentication and permissions: the cost of the stack alone."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


@extend_schema(exclude=True)
class RawExportView(APIView):
    """The least an export can do: one values() query and one json.dumps of the rows."""

    def get(self, request, pk):
        rows = list(
            Turn.objects.filter(conversation_id=pk, conversation__owner=request.user)
            .order_by("session", "position", "id")
            .values(*RAW_TURN_FIELDS)
        )
        return HttpResponse(json.dumps(rows, cls=DjangoJSONEncoder), content_type="application/json")


@extend_schema(exclude=True)
class ExportMemoryView(APIView):
    """Run the real export endpoint in this worker and report its peak memory while streaming.

    `?probe=tracemalloc` reports the peak of Python allocations; `?probe=rss` the growth of the
    worker's peak resident set (which also sees C buffers such as libpq results).
    """

    def get(self, request, pk):
        probe = request.query_params.get("probe", "tracemalloc")
        path = reverse("conversations:api-export", args=[pk])
        inner = RequestFactory().get(
            path,
            {"format": request.query_params.get("format", "json")},
            HTTP_AUTHORIZATION=request.META.get("HTTP_AUTHORIZATION", ""),
            HTTP_HOST=request.get_host(),
        )
        match = resolve(path)
        started = time.perf_counter()
        if probe == "rss":
            _reset_peak_rss()
            before = _status_kib("VmRSS")
            size, status = _consume(match.func(inner, *match.args, **match.kwargs))
            peak = (_status_kib("VmHWM") - before) * 1024
        else:
            tracemalloc.start()
            try:
                size, status = _consume(match.func(inner, *match.args, **match.kwargs))
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        return Response(
            {
                "probe": probe,
                "status": status,
                "bytes": size,
                "peak_bytes": peak,
                "seconds": time.perf_counter() - started,
            }
        )


def _consume(response) -> tuple[int, int]:
    if getattr(response, "streaming", False):
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        if hasattr(response, "render"):
            response.render()
        size = len(response.content)
    response.close()
    return size, response.status_code


def _reset_peak_rss() -> None:
    # Writing 5 resets VmHWM to the current RSS (Linux 4.0+), so the next peak is this request's.
    Path("/proc/self/clear_refs").write_text("5")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)
