"""Account rules: preferences and API tokens."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Preference


def get_preference(*, user: AbstractBaseUser) -> Preference:
    """The user's saved voice preferences (an unsaved default object if none were saved)."""
    try:
        return user.preference
    except Preference.DoesNotExist:
        return Preference(user=user)


def create_api_token(*, user: AbstractBaseUser, name: str, lifetime: timedelta | None) -> str:
    """Create a named API token valid for `lifetime` (None: until revoked) and return it; only its
    hash is stored, so this is the one time it can be shown."""
    _, token = ApiToken.objects.create(user=user, expiry=lifetime, name=name.strip())
    return token


def api_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return ApiToken.objects.filter(live, user=user).only("name", "created", "expiry", "digest")


def revoke_api_token(*, user: AbstractBaseUser, digest: str) -> bool:
    """Delete the user's token with this digest; False when they have no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)
