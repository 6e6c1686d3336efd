"""Account rules: preferences and API tokens."""

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token

from accounts.models import Preference


def get_preference(*, user: AbstractBaseUser) -> Preference:
    """The user's saved voice preferences (an unsaved default object if none were saved)."""
    try:
        return user.preference
    except Preference.DoesNotExist:
        return Preference(user=user)


def rotate_api_token(*, user: AbstractBaseUser) -> str:
    """Replace the user's API token with a new one and return it; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


def revoke_api_token(*, user: AbstractBaseUser) -> bool:
    """Delete the user's API token; True if there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
