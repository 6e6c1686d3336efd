"""Baseline endpoints for `make bench`, mounted only by the bench settings (bench/urls.py)."""

import json
import os
import threading
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

from conversations.models import TURN_FIELDS, Turn


@extend_schema(exclude=True)
class NoopView(APIView):
    """Does nothing behind the default authentication and permissions: the cost of the stack alone."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


@extend_schema(exclude=True)
class RawExportView(APIView):
    """The least an export can do: one values() query of the exported columns and one json.dumps."""

    def get(self, request, pk):
        rows = list(
            Turn.objects.filter(conversation_id=pk, conversation__owner=request.user)
            .in_order()
            .values(*TURN_FIELDS.values())
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
            with RssSampler() as sampler:
                size, status = _consume(match.func(inner, *match.args, **match.kwargs))
            peak = sampler.peak - sampler.before
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


class RssSampler:
    """Samples this process's resident set every few milliseconds; portable where VmHWM resets are not."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.before = self.peak = _rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._done.wait(self.interval):
            self.peak = max(self.peak, _rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
