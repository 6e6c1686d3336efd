"""Response headers that Django has no setting for."""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class PermissionsPolicyMiddleware:
    """Allow the microphone for our own pages only; deny the other powerful features."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NoStoreMiddleware:
    """Nothing Django answers may be kept by a browser or proxy cache unless the view says so:
    pages and API answers carry personal data (transcripts, tokens, CSRF tokens). Static files
    are answered by whitenoise, above this middleware, with their own long-lived headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
