"""People own their data: download everything of an account, or delete it with everything it holds."""

import logging
from collections.abc import Iterator

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.serializers import DateTimeField, Serializer

from accounts.services import api_tokens, get_preference
from conversations import exports, selectors
from conversations.models import Conversation, DailyQuota, SessionGrant, Usage
from privacy.serializers import (
    AccountSerializer,
    ApiTokenSerializer,
    DailyQuotaSerializer,
    PreferenceSerializer,
    SessionRecordSerializer,
    SessionTimeSerializer,
)

logger = logging.getLogger(__name__)
EXPORT_FORMAT, EXPORT_VERSION = "voiceapp-account-data", 1
ROWS_PER_CHUNK = 200
CONVERSATIONS_PER_DELETE = 20
# Login records of django-axes name the account by username, not by a foreign key.
LOGIN_RECORDS = (AccessAttempt, AccessFailureLog, AccessLog)


def export_account(*, user: AbstractBaseUser) -> Iterator[str]:
    """The user's account, preferences, session records and every conversation with its turns and
    usage, as one JSON document (docs/account-data.md) streamed in chunks: memory stays flat
    however much there is."""
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": DateTimeField().to_representation(timezone.now()),
        "account": AccountSerializer(user).data,
        "preferences": PreferenceSerializer(get_preference(user=user)).data,
        "api_tokens": ApiTokenSerializer(api_tokens(user=user), many=True).data,
    }
    yield exports.json_text(header)[:-1]
    yield from _json_rows(
        "daily_quotas", DailyQuota.objects.filter(user=user).order_by("day"), DailyQuotaSerializer
    )
    grants = SessionGrant.objects.filter(user=user).order_by("created_at", "pk")
    yield from _json_rows("sessions", grants, SessionRecordSerializer)
    time_lines = Usage.objects.filter(user=user, turn__isnull=True).order_by("conversation", "session")
    yield from _json_rows("session_time", time_lines, SessionTimeSerializer)
    yield ', "conversations": '
    yield from exports.render_conversations_json(
        selectors.transcripts(selectors.account_conversations(user=user))
    )
    yield "}\n"


def _json_rows(name: str, rows: QuerySet, serializer: type[Serializer]) -> Iterator[str]:
    yield f', "{name}": ['
    batch, separator = [], ""
    for row in rows.iterator(chunk_size=ROWS_PER_CHUNK):
        batch.append(serializer(row).data)
        if len(batch) == ROWS_PER_CHUNK:
            yield separator + exports.json_text(batch)[1:-1]
            batch, separator = [], ","
    if batch:
        yield separator + exports.json_text(batch)[1:-1]
    yield "]"


def delete_account(*, user: AbstractBaseUser) -> None:
    """Delete the user and everything of theirs, in one transaction: conversations, turns, usage,
    session audit and quota rows, API tokens, preferences, and the login records kept by username.

    Every table that refers to the user does so with on_delete=CASCADE, so its rows go with the
    user whichever app adds it (tests/privacy/test_account_delete.py checks every table).
    """
    user_id, username = user.pk, user.get_username()
    conversations = Conversation.objects.filter(owner=user).order_by().values_list("pk", flat=True)
    with transaction.atomic():
        # Django loads every row it cascades to (about 0.8 kB a turn): conversations go a few at a
        # time, so memory follows the largest conversation, not the size of the account.
        while batch := list(conversations[:CONVERSATIONS_PER_DELETE]):
            Conversation.objects.filter(pk__in=batch).delete()
        for model in LOGIN_RECORDS:
            model.objects.filter(username=username).delete()
        user.delete()
    logger.info("account %s deleted with all its data", user_id)
