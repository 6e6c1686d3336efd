"""`Authorization: Token …` with django-rest-knox's hashed tokens."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth


class TokenAuthentication(auth.TokenAuthentication):
    """knox's, checking only the presented token's expiry: knox also loads all the user's other
    tokens on every request to delete expired ones, a query per API call for housekeeping.
    Expired tokens never authenticate either way, and the profile lists only live ones."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of these tokens (registered when this module is imported)."""

    target_class = "accounts.authentication.TokenAuthentication"
    name = "tokenAuth"
