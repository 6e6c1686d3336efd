"""Account rules: sign-up, preferences and API tokens."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import status

from accounts.forms import SignupForm
from accounts.models import ApiToken, InviteCode, Preference
from core.errors import ServiceError
from core.throttling import RateLimitUnavailable, hit, parse_rate

TOO_MANY_SIGNUPS = "Too many accounts were created from your network recently. Please try again later."
CODE_TAKEN = "This invite code was used a moment ago. Please ask for another one."


def sign_up(*, form: SignupForm, ip: str | None) -> AbstractBaseUser:
    """Create the account of a valid sign-up form: one of the address's SIGNUP_RATE, the invite
    code taken (SIGNUP=invite), inactive until its e-mail address is confirmed (SIGNUP_VERIFY_EMAIL).

    Raises ServiceError with a sentence (429 past the rate, 503 while the rate cannot be counted).
    """
    limit, window = parse_rate(settings.SIGNUP_RATE)
    try:
        allowed, wait = hit(f"signup:{ip or 'unknown'}", limit=limit, window=window, fail_closed=True)
    except RateLimitUnavailable as exc:
        raise ServiceError(str(exc.detail), status_code=exc.status_code, retry_after=exc.wait) from None
    if not allowed:
        raise ServiceError(TOO_MANY_SIGNUPS, status_code=status.HTTP_429_TOO_MANY_REQUESTS, retry_after=wait)
    with transaction.atomic():
        user = form.save(commit=False)
        user.is_active = not settings.SIGNUP_VERIFY_EMAIL
        user.save()
        code = form.cleaned_data.get("invite_code")
        # One conditional UPDATE: two people racing with one code cannot both sign up.
        unused = InviteCode.objects.filter(code=code, used_by__isnull=True)
        if code and not unused.update(used_by=user, used_at=timezone.now()):
            raise ServiceError(CODE_TAKEN)  # rolls the account back
    return user


def send_confirmation(*, user: AbstractBaseUser, site_url: str) -> None:
    """E-mail the link that confirms the address of a new, inactive account."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("accounts:confirm-email", args=[uid, default_token_generator.make_token(user)])
    body = render_to_string("registration/confirm_email.txt", {"user": user, "link": site_url + path})
    send_mail("Confirm your VoiceApp account", body, None, [user.email])


def confirm_email(*, uidb64: str, token: str, activate: bool) -> AbstractBaseUser | None:
    """The inactive account the link was made for (activated when `activate`), or None when the
    link is wrong, expired or already used."""
    try:
        user = get_user_model().objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=False)
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    if activate:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


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
