"""The app's URLs plus the baseline endpoints `make bench` measures against (bench settings only)."""

from django.urls import path

from bench import endpoints
from voiceapp.urls import handler404, handler500
from voiceapp.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    *app_urlpatterns,
    path("bench/noop/", endpoints.NoopView.as_view()),
    path("bench/export-raw/<uuid:pk>/", endpoints.RawExportView.as_view()),
    path("bench/export-memory/<uuid:pk>/", endpoints.ExportMemoryView.as_view()),
]

__all__ = ["handler404", "handler500", "urlpatterns"]
