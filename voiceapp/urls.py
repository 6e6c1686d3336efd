"""Root URLs: admin, auth, then each app's own urls.py."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from voiceapp import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("weather.urls")),
    path("", include("conversations.urls")),
]

if settings.BENCH_ENDPOINTS:
    from voiceapp import bench

    urlpatterns += [
        path("bench/noop/", bench.NoopView.as_view()),
        path("bench/export-raw/<uuid:pk>/", bench.RawExportView.as_view()),
        path("bench/export-memory/<uuid:pk>/", bench.ExportMemoryView.as_view()),
    ]

handler404 = "voiceapp.views.page_not_found"
handler500 = "voiceapp.views.server_error"
