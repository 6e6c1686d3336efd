"""Starting a voice session for a logged-in user, whichever upstream runs: ownership, quota,
conversation, history, the one upstream call, and an audit row for every attempt.

This module knows no upstream JSON: conversations/upstreams/ does (minting a Realtime key, or
relaying a GPT-Live SDP offer).
"""

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from accounts.models import Preference
from accounts.services import get_preference
from conversations import grant_insert, quota_take, selectors, upstreams
from conversations.models import Conversation, DailyQuota, SessionGrant
from conversations.upstreams import SessionConfig, SessionRequest, UpstreamSession
from core.errors import QuotaExceeded, ServiceError

logger = logging.getLogger(__name__)

HISTORY_TURNS = 12  # turns of a continued conversation replayed to the model
HISTORY_TEXT = 500  # characters per replayed turn
CONVERSATION_GONE = "The conversation was deleted while the session started; the session was not used."
UPSTREAM_NAMES = {"realtime": "the OpenAI Realtime API", "live": "GPT-Live"}


def start_voice_session(
    *, user, upstream: str, conversation_id: uuid.UUID | None = None, offer_sdp: str | None = None
) -> dict:
    """Start an `upstream` voice session for a new or continued conversation of `user`.

    Returns what the browser needs (the upstream's connection details plus conversation, model
    and voice session number). Raises Http404 (not the user's conversation), QuotaExceeded, or
    ServiceError/UpstreamError with a sentence for the page. Every attempt past the ownership
    check is audited as a SessionGrant.
    """
    _check_upstream_in_use(upstream)
    conversation = _owned_conversation(user, conversation_id)
    module = upstreams.get(upstream)
    audit = SessionGrant(user=user, conversation=conversation, model=module.session_model())
    _check_daily_budget(audit)
    preference = _take_quota_unit(user, audit)
    try:
        config = module.session_config(_session_request(user, conversation, preference))
    except Exception:
        _give_back_quota_unit(user)
        raise
    started = _start_upstream(module, config, offer_sdp=offer_sdp, user=user, audit=audit)
    conversation = _record_start(
        user=user, conversation=conversation, config=config, started=started, audit=audit
    )
    logger.info("%s voice session started for user %s", upstream, user.pk)
    return {
        **started.browser,
        "conversation": conversation.pk,
        "model": started.model,
        "session": conversation.session_count,
    }


def _check_upstream_in_use(upstream: str) -> None:
    """A page loaded before the administrator switched VOICE_API asks the other endpoint: 409."""
    if upstream != settings.VOICE_API:
        raise ServiceError(
            f"This server now runs its voice sessions on {UPSTREAM_NAMES[settings.VOICE_API]}. "
            "Please reload the page.",
            status_code=409,
        )


def _owned_conversation(user, conversation_id: uuid.UUID | None) -> Conversation | None:
    if not conversation_id:
        return None
    return selectors.owned_conversation(user=user, pk=conversation_id)


def _session_request(user, conversation: Conversation | None, preference: Preference) -> SessionRequest:
    return SessionRequest(
        voice=preference.voice,
        language=preference.language,
        language_name=preference.get_language_display() if preference.language else "",
        instructions=preference.instructions,
        history=_history(conversation) if conversation else (),
        user_key=safety_identifier(user),
    )


def safety_identifier(user) -> str:
    """A stable pseudonym of the user for the upstream's abuse detection: not reversible without
    SECRET_KEY, never the id or e-mail."""
    return "u_" + salted_hmac("conversations.safety_identifier", str(user.pk)).hexdigest()[:32]


def _start_upstream(module, config: SessionConfig, *, offer_sdp, user, audit) -> UpstreamSession:
    # The upstream call happens outside any transaction; a failure gives the unit back.
    try:
        return module.start(config=config, offer_sdp=offer_sdp)
    except ServiceError as exc:
        _give_back_quota_unit(user)
        outcome = (
            SessionGrant.Outcome.NOT_CONFIGURED
            if exc.status_code == 503
            else SessionGrant.Outcome.UPSTREAM_ERROR
        )
        _save_audit(audit, outcome, exc)
        raise


def _record_start(
    *, user, conversation, config: SessionConfig, started: UpstreamSession, audit: SessionGrant
) -> Conversation:
    audit.upstream_request_id = started.request_id
    audit.upstream_session_id = started.session_id
    audit.upstream_status = 200
    if started.expires_at:
        audit.expires_at = dt.datetime.fromtimestamp(started.expires_at, tz=dt.UTC)
    audit.outcome = SessionGrant.Outcome.GRANTED
    counted = _counted(user=user, conversation=conversation, upstream=config.upstream, started=started)
    audit.conversation = counted
    # One statement and one commit on PostgreSQL; the same rows in a transaction elsewhere.
    if connection.vendor == "postgresql":
        if conversation is None and grant_insert.create(counted, audit):
            return counted
        if conversation is not None and grant_insert.count_session(counted, audit):
            return counted
    with transaction.atomic():
        if conversation is None:
            counted.save(force_insert=True)
        elif not _count_voice_session(counted):
            # Deleted (another tab, the retention job) while the upstream was called.
            audit.conversation, audit.detail = None, CONVERSATION_GONE
        audit.save()
    if audit.conversation is None:  # the browser gets no session: the unit goes back
        _give_back_quota_unit(user)
        raise Http404(selectors.NOT_FOUND)
    return counted


def _check_daily_budget(audit: SessionGrant) -> None:
    """Refuse new voice sessions once today's estimated spending reaches DAILY_BUDGET_USD (0: no
    budget), auditing why; sessions already running go on."""
    budget = settings.DAILY_BUDGET_USD
    if not budget:
        return
    spent = selectors.spent_on(day=timezone.localdate())
    if spent < budget:
        return
    exc = ServiceError(
        "Voice chat has used up this site's budget for today. Please come back tomorrow.",
        status_code=503,
        retry_after=_seconds_until_tomorrow(),
    )
    audit.outcome = SessionGrant.Outcome.BUDGET_SPENT
    audit.detail = f"Today's estimated spending ${spent:.2f} reached DAILY_BUDGET_USD (${budget:.2f})."
    audit.save()
    logger.warning("voice session refused: today's budget is spent")
    raise exc


def _take_quota_unit(user, audit: SessionGrant) -> Preference:
    """Take one of today's voice sessions and return the user's preferences, or audit and raise
    QuotaExceeded."""
    # One conditional UPDATE, committed at once: atomic on PostgreSQL and SQLite, across workers
    # and hosts, and it holds while the upstream is called.
    today = timezone.localdate()
    if preference := _take(user, today):
        return preference
    # Nothing updated: either today's row does not exist yet (the day's first voice session) or the quota
    # is used up. Create the row (the unique constraint settles a race) and try once more.
    DailyQuota.objects.get_or_create(user=user, day=today)
    if preference := _take(user, today):
        return preference
    exc = QuotaExceeded(
        quota_sentence(settings.REALTIME_SESSIONS_PER_DAY), retry_after=_seconds_until_tomorrow()
    )
    _save_audit(audit, SessionGrant.Outcome.QUOTA_EXCEEDED, exc)
    raise exc


def _take(user, today) -> Preference | None:
    """The user's preferences when a unit was taken, else None."""
    limit = settings.REALTIME_SESSIONS_PER_DAY
    if connection.vendor == "postgresql":  # the UPDATE and the preferences in one round trip
        taken, preference = quota_take.take_unit(user=user, day=today, limit=limit)
        return preference if taken else None
    if DailyQuota.objects.filter(user=user, day=today, used__lt=limit).update(used=F("used") + 1):
        return get_preference(user=user)
    return None


def quota_sentence(limit: int) -> str:
    """What a user who reached the daily limit of voice sessions is told."""
    if limit == 0:
        return "Voice sessions are switched off for today. Please come back tomorrow."
    used = ngettext("your one voice session", "all %(count)d voice sessions", limit) % {"count": limit}
    return f"You have used {used} for today. Please come back tomorrow."


def _give_back_quota_unit(user) -> None:
    DailyQuota.objects.filter(user=user, day=timezone.localdate(), used__gt=0).update(used=F("used") - 1)


def _seconds_until_tomorrow() -> int:
    now = timezone.localtime()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
    return max(int((midnight - now).total_seconds()), 1)


def _counted(
    *, user, conversation: Conversation | None, upstream: str, started: UpstreamSession
) -> Conversation:
    """The conversation as it is once this session is counted (new and unsaved, or `conversation`
    with its fields set; its stored session_count is raised by the statement that saves it)."""
    if conversation is None:
        return Conversation(
            owner=user,
            upstream=upstream,
            model=started.model,
            voice=started.voice,
            session_count=1,
            started_at=timezone.now(),
        )
    conversation.status = Conversation.Status.ACTIVE
    conversation.upstream, conversation.model, conversation.voice = upstream, started.model, started.voice
    return conversation


def _count_voice_session(conversation: Conversation) -> bool:
    """Count the session on the stored conversation; False when it no longer exists."""
    counted = Conversation.objects.filter(pk=conversation.pk).update(
        session_count=F("session_count") + 1,
        status=conversation.status,
        upstream=conversation.upstream,
        model=conversation.model,
        voice=conversation.voice,
        ended_at=None,
        updated_at=timezone.now(),
    )
    if counted:
        conversation.refresh_from_db()
    return bool(counted)


def _history(conversation: Conversation) -> tuple[tuple[str, str], ...]:
    """The last spoken turns, oldest first, as (role, text)."""
    turns = selectors.recent_spoken_turns(conversation=conversation, limit=HISTORY_TURNS)
    return tuple((turn.role, turn.text[:HISTORY_TEXT]) for turn in turns)


def _save_audit(audit: SessionGrant, outcome: str, exc: ServiceError) -> None:
    audit.outcome = outcome
    audit.upstream_status = getattr(exc, "upstream_status", None)
    # ModelUnavailable names the setting to change; the page only gets the sentence.
    audit.detail = getattr(exc, "audit_detail", exc.message)[:300]
    audit.save()
