"""Minting ephemeral Realtime keys for logged-in users: quota, conversation, upstream call, audit."""

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts.services import get_preference
from conversations import realtime
from conversations.models import Conversation, DailyQuota, SessionGrant
from core.errors import QuotaExceeded, ServiceError

logger = logging.getLogger(__name__)

HISTORY_TURNS = 12  # turns of a continued conversation replayed into the instructions


def mint_session(*, user, conversation_id: uuid.UUID | None = None) -> dict:
    """Mint an ephemeral key for a new or continued conversation of `user`.

    Returns the grant for the browser. Raises Http404 (not the user's conversation),
    QuotaExceeded, or ServiceError/UpstreamError with a sentence for the page.
    Every attempt past the ownership check is audited as a SessionGrant.
    """
    conversation = None
    if conversation_id:
        conversation = Conversation.objects.for_user(user).filter(pk=conversation_id).first()
        if conversation is None:
            raise Http404("No such conversation.")
    preference = get_preference(user=user)
    session = realtime.session_config(
        voice=preference.voice,
        language=preference.language,
        extra_instructions=preference.instructions,
        history=_history(conversation) if conversation else "",
    )
    audit = SessionGrant(user=user, conversation=conversation, model=session["model"])
    try:
        _take_quota_unit(user)
    except QuotaExceeded as exc:
        _save_audit(audit, SessionGrant.Outcome.QUOTA_EXCEEDED, exc)
        raise
    # The upstream call happens outside any transaction; a failure gives the unit back.
    try:
        secret = realtime.create_client_secret(session=session)
    except ServiceError as exc:
        _give_back_quota_unit(user)
        outcome = (
            SessionGrant.Outcome.NOT_CONFIGURED
            if exc.status_code == 503
            else SessionGrant.Outcome.UPSTREAM_ERROR
        )
        _save_audit(audit, outcome, exc)
        raise
    with transaction.atomic():
        conversation = _open_session(user=user, conversation=conversation, session=session)
        audit.conversation = conversation
        audit.upstream_request_id = secret.request_id
        audit.upstream_status = 200
        audit.expires_at = dt.datetime.fromtimestamp(secret.expires_at, tz=dt.UTC)
        audit.outcome = SessionGrant.Outcome.GRANTED
        audit.save()
    logger.info("realtime session minted for user %s", user.pk)
    return {
        "client_secret": secret.value,
        "expires_at": secret.expires_at,
        "conversation": conversation.pk,
        "model": session["model"],
        "calls_url": realtime.calls_url(),
        "session": conversation.session_count,
    }


def _take_quota_unit(user) -> None:
    # One conditional UPDATE: atomic on PostgreSQL and SQLite, across workers and hosts.
    today = timezone.localdate()
    todays_quota = DailyQuota.objects.filter(
        user=user, day=today, used__lt=settings.REALTIME_SESSIONS_PER_DAY
    )
    if todays_quota.update(used=F("used") + 1):
        return
    # Nothing updated: either today's row does not exist yet (the day's first session) or the quota
    # is used up. Create the row (the unique constraint settles a race) and try once more.
    DailyQuota.objects.get_or_create(user=user, day=today)
    if todays_quota.update(used=F("used") + 1):
        return
    raise QuotaExceeded(
        f"You have used all {settings.REALTIME_SESSIONS_PER_DAY} voice sessions for today. "
        "Please come back tomorrow.",
        retry_after=_seconds_until_tomorrow(),
    )


def _give_back_quota_unit(user) -> None:
    DailyQuota.objects.filter(user=user, day=timezone.localdate(), used__gt=0).update(used=F("used") - 1)


def _seconds_until_tomorrow() -> int:
    now = timezone.localtime()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
    return max(int((midnight - now).total_seconds()), 1)


def _open_session(*, user, conversation: Conversation | None, session: dict) -> Conversation:
    now = timezone.now()
    voice = session["audio"]["output"]["voice"]
    if conversation is None:
        return Conversation.objects.create(
            owner=user, model=session["model"], voice=voice, session_count=1, started_at=now
        )
    Conversation.objects.filter(pk=conversation.pk).update(
        session_count=F("session_count") + 1,
        status=Conversation.Status.ACTIVE,
        model=session["model"],
        voice=voice,
        ended_at=None,
        updated_at=now,
    )
    conversation.refresh_from_db()
    return conversation


def _history(conversation: Conversation) -> str:
    turns = conversation.turns.exclude(role="tool").exclude(text="").order_by("-session", "-position", "-id")
    lines = [f"{turn.get_role_display()}: {turn.text[:500]}" for turn in turns[:HISTORY_TURNS]]
    return "\n".join(reversed(lines))


def _save_audit(audit: SessionGrant, outcome: str, exc: ServiceError) -> None:
    audit.outcome = outcome
    audit.upstream_status = getattr(exc, "upstream_status", None)
    audit.detail = exc.message[:300]
    audit.save()
