"""People own their data: download everything of an account, or delete it with everything it holds."""

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django_tasks import task
from rest_framework.serializers import DateTimeField, Serializer

from accounts.services import api_tokens, get_preference
from conversations import downloads, exports, selectors
from conversations.models import Conversation, DailyQuota, SessionGrant, Usage
from privacy.models import DataExport
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
PROGRESS_EVERY = 1.0  # seconds between two saves of a background export's progress
# Login records of django-axes name the account by username, not by a foreign key.
LOGIN_RECORDS = (AccessAttempt, AccessFailureLog, AccessLog)


def export_account(
    *, user: AbstractBaseUser, progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The user's account, preferences, session records and every conversation with its turns and
    usage, as one JSON document (docs/account-data.md) streamed in chunks: memory stays flat
    however much there is. `progress` is told how many conversations are written, as they are."""
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": DateTimeField().to_representation(timezone.now()),
        "account": AccountSerializer(user).data,
        "preferences": PreferenceSerializer(get_preference(user=user)).data,
        "api_tokens": ApiTokenSerializer(api_tokens(user=user), many=True).data,
    }
    yield exports.json_text(header)[:-1].encode()
    yield from _json_rows(
        "daily_quotas", DailyQuota.objects.filter(user=user).order_by("day"), DailyQuotaSerializer
    )
    grants = SessionGrant.objects.filter(user=user).order_by("created_at", "pk")
    yield from _json_rows("sessions", grants, SessionRecordSerializer)
    time_lines = Usage.objects.filter(user=user, turn__isnull=True).order_by("conversation", "session")
    yield from _json_rows("session_time", time_lines, SessionTimeSerializer)
    yield b', "conversations": '
    yield from downloads.conversations_json(selectors.account_conversations(user=user), progress)
    yield b"}\n"


def _json_rows(name: str, rows: QuerySet, serializer: type[Serializer]) -> Iterator[bytes]:
    yield f', "{name}": ['.encode()
    batch, separator = [], ""
    for row in rows.iterator(chunk_size=ROWS_PER_CHUNK):
        batch.append(serializer(row).data)
        if len(batch) == ROWS_PER_CHUNK:
            yield (separator + exports.json_text(batch)[1:-1]).encode()
            batch, separator = [], ","
    if batch:
        yield (separator + exports.json_text(batch)[1:-1]).encode()
    yield b"]"


def export_filename(user: AbstractBaseUser, day=None) -> str:
    """The download's name: voiceapp-data-<username>-<date it was made>.json."""
    name = slugify(user.get_username()) or "account"
    return f"voiceapp-data-{name}-{timezone.localdate(day):%Y-%m-%d}.json"


# --- The download prepared in the background ------------------------------------------------------


def start_data_export(*, user: AbstractBaseUser) -> DataExport:
    """The user's export being prepared, or a new one queued (settings.TASKS): the user waits on no
    request while a big account is written. Older exports of the user and their files go."""
    current = DataExport.objects.filter(user=user, status=DataExport.Status.PREPARING).first()
    if current and not current.stalled:
        return current
    for old in DataExport.objects.filter(user=user):
        delete_data_export(old)
    export = DataExport.objects.create(
        user=user, conversations_total=Conversation.objects.for_user(user).count()
    )
    transaction.on_commit(lambda: build_data_export.enqueue(export_id=str(export.pk)))
    return export


@task()
def build_data_export(export_id: str) -> None:
    """Write the account's file (export_account) to the exports storage, saving progress as it goes."""
    export = DataExport.objects.select_related("user").get(pk=export_id)
    last_save = time.monotonic()

    def progress(done: int) -> None:
        nonlocal last_save
        if time.monotonic() - last_save >= PROGRESS_EVERY:
            DataExport.objects.filter(pk=export.pk).update(conversations_done=done, updated_at=timezone.now())
            last_save = time.monotonic()

    try:
        with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as scratch:
            for chunk in export_account(user=export.user, progress=progress):
                scratch.write(chunk)
            export.size = scratch.tell()
            scratch.seek(0)
            export.file.save(export_filename(export.user), File(scratch), save=False)
    except Exception:
        logger.exception("data export %s of account %s failed", export.pk, export.user_id)
        DataExport.objects.filter(pk=export.pk).update(
            status=DataExport.Status.FAILED, finished_at=timezone.now()
        )
        raise
    export.status = DataExport.Status.READY
    export.conversations_done = export.conversations_total
    export.finished_at = timezone.now()
    export.save()
    logger.info("data export %s of account %s ready: %s bytes", export.pk, export.user_id, export.size)


def delete_data_export(export: DataExport) -> None:
    if export.file:
        export.file.delete(save=False)
    export.delete()


def delete_expired_data_exports(*, dry_run: bool = False) -> int:
    """Remove the downloads kept past DATA_EXPORT_KEEP_DAYS, files included (nobody can fetch them
    any more, and a file of a whole account is large). Returns how many there were."""
    cutoff = timezone.now() - timedelta(days=settings.DATA_EXPORT_KEEP_DAYS)
    expired = DataExport.objects.filter(
        Q(finished_at__lte=cutoff) | Q(finished_at__isnull=True, created_at__lte=cutoff)
    )
    if dry_run:
        return expired.count()
    count = 0
    for export in expired.iterator():
        delete_data_export(export)
        count += 1
    if count:
        logger.info("%s expired data export(s) deleted", count)
    return count


def delete_account(*, user: AbstractBaseUser) -> None:
    """Delete the user and everything of theirs, in one transaction: conversations, turns, usage,
    session audit and quota rows, API tokens, preferences, and the login records kept by username.

    Every table that refers to the user does so with on_delete=CASCADE, so its rows go with the
    user whichever app adds it (tests/privacy/test_account_delete.py checks every table).
    """
    user_id, username = user.pk, user.get_username()
    for export in DataExport.objects.filter(user=user):
        delete_data_export(export)  # the files too, which no cascade reaches
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
