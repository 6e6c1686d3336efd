"""Template context every page needs from the accounts app."""

from django.conf import settings


def signup(request) -> dict:
    """Whether to offer sign-up links: not while the operator has closed sign-up (SIGNUP=closed)."""
    return {"signup_open": settings.SIGNUP != "closed"}
