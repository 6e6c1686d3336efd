"""A user with a row in every kind of table an account can fill, and a count of every table."""

from decimal import Decimal

from axes.models import AccessAttempt, AccessLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import ForeignKey, Model, OneToOneField, Q
from django.utils import timezone

from accounts.models import Preference
from accounts.services import create_api_token
from conversations import figures
from conversations.models import Conversation, DailyQuota, SessionGrant, Turn, Usage

MAX_DEPTH = 4  # Usage -> Turn -> Conversation -> owner is three hops


def give_everything(user, *, conversations: int = 2, turns: int = 3) -> None:
    """Fill every table an account can have rows in, for `user`; `user.api_token` is its API token."""
    today = timezone.localdate()
    Preference.objects.create(user=user, voice="cedar", language="nl", instructions="Answer in Dutch.")
    user.api_token = create_api_token(user=user, name="backup script", lifetime=None)
    DailyQuota.objects.create(user=user, day=today, used=2)
    user.groups.add(Group.objects.get_or_create(name="testers")[0])
    user.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Conversation),
        object_id="1",
        object_repr="a conversation",
        action_flag=CHANGE,
    )
    AccessAttempt.objects.create(username=user.username, ip_address="192.0.2.1", failures_since_start=1)
    AccessLog.objects.create(username=user.username, ip_address="192.0.2.1")
    for number in range(conversations):
        conversation = Conversation.objects.create(
            owner=user, title=f"{user.username} {number}", model="gpt-realtime", session_count=1
        )
        SessionGrant.objects.create(
            user=user, conversation=conversation, model="gpt-realtime", outcome=SessionGrant.Outcome.GRANTED
        )
        Usage.objects.create(  # the billed time of a GPT-Live session: usage without a turn
            conversation=conversation,
            user=user,
            model="gpt-live",
            day=today,
            session=1,
            seconds=Decimal("61.5"),
            active_seconds=Decimal("58.25"),
            paused_seconds=Decimal("3.25"),
            cost=Decimal("0.05"),
        )
        for position in range(turns):
            role = ("user", "assistant", "tool")[position % 3]
            turn = Turn.objects.create(
                conversation=conversation,
                item_id=f"item_{number}_{position}",
                role=role,
                position=position,
                text=f"{role} says {position}" if role != "tool" else "",
                tool_name="get_weather" if role == "tool" else "",
                arguments='{"location": "Oslo"}' if role == "tool" else "",
            )
            if role == "assistant":
                Usage.objects.create(
                    turn=turn,
                    conversation=conversation,
                    user=user,
                    model="gpt-realtime",
                    day=today,
                    text_in=10,
                    audio_out=20,
                    total_tokens=30,
                    cost=Decimal("0.001"),
                )
        figures.recount([conversation.pk])  # stored directly: the figures as the write paths keep them


def _paths_to_users(model: type[Model], depth: int = MAX_DEPTH) -> list[str]:
    """Lookups from `model` to a user through foreign keys, e.g. "turn__conversation__owner"."""
    if model is get_user_model():
        return ["pk"]
    if depth == 0:
        return []
    paths = []
    for field in model._meta.concrete_fields:
        if isinstance(field, ForeignKey | OneToOneField):
            for rest in _paths_to_users(field.related_model, depth - 1):
                paths.append(field.name if rest == "pk" else f"{field.name}__{rest}")
    return paths


def user_tables() -> dict[type[Model], list[str]]:
    """Every installed model with a way to reach a user, found in Django's model registry: a table
    added later is counted without changing this test."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if paths := _paths_to_users(model):
            tables[model] = paths
    return tables


def rows_of(user) -> dict[str, int]:
    """How many rows of each table belong to `user` (its own row included), plus login records,
    which name the user instead of pointing at them."""
    counts = {}
    for model, paths in user_tables().items():
        belongs = Q()
        for path in paths:
            belongs |= Q(**{path: user.pk})
        counts[model._meta.label] = model._base_manager.filter(belongs).distinct().count()
    for model in (AccessAttempt, AccessLog):
        counts[model._meta.label] = model.objects.filter(username=user.username).count()
    return counts


def table_sizes() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count() for model in apps.get_models(include_auto_created=True)
    }
