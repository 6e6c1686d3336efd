"""The figures stored on a conversation: turn_count, total_tokens, total_cost and last_turn_at.

A list (the history page, the API list, both searches), the detail pages, the exports and the admin
read them from the conversation's row. Every write of a turn or a usage line changes them where it
writes, by increments in SQL, so that concurrent posts add up:

- a new turn with its position (conversations/turn_insert.py, one statement): its `touched` CTE adds
  the turn, its usage line's tokens and cost, and raises last_turn_at to the turn's time;
- services.record_turn's transaction (a placed turn, a retry, a late transcript, usage posted for a
  stored turn): _touch_conversation adds the new turn, the change of the usage line, and the turn's
  time; a turn whose time moved earlier is recounted (recount);
- services.record_session_time: the change of a GPT-Live session's time line cost;
- the admin's deletion of usage lines: recount.

Deleting a conversation deletes its turns and usage with it; turns are never deleted on their own.
counted() computes the same figures from the turns and usage: what the stored ones must equal.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from conversations.models import TOTAL_COST_DIGITS, Conversation, Turn, Usage

# A turn's time for last_turn_at: its end, else its start, else when it was stored.
TURN_TIME = ("ended_at", "started_at", "created_at")


def turn_time(turn: Turn) -> datetime:
    return turn.ended_at or turn.started_at or turn.created_at


def counts() -> dict:
    """The figures as expressions over a conversation's own turns and usage (OuterRef("pk"))."""
    turns = Turn.objects.filter(conversation=OuterRef("pk")).order_by().values("conversation")
    usages = Usage.objects.filter(conversation=OuterRef("pk")).order_by().values("conversation")
    cost = DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6)
    return {
        "turn_count": Coalesce(Subquery(turns.annotate(n=Count("pk")).values("n")), Value(0)),
        "total_tokens": Coalesce(
            Subquery(usages.annotate(n=Sum("total_tokens")).values("n")),
            Value(0),
            output_field=IntegerField(),
        ),
        "total_cost": Coalesce(
            Subquery(usages.annotate(n=Sum("cost", output_field=cost)).values("n")),
            Value(Decimal(0)),
            output_field=cost,
        ),
        "last_turn_at": Subquery(turns.annotate(last=Max(Coalesce(*TURN_TIME))).values("last")),
    }


def counted(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """`queryset` annotated with its figures counted from the turns and usage (counted_turn_count,
    counted_total_tokens, counted_total_cost, counted_last_turn_at), by subqueries: counting turns
    and summing usage over one join would multiply the sums."""
    return queryset.annotate(**{f"counted_{name}": value for name, value in counts().items()})


def recount(conversation_ids) -> None:
    """Set the stored figures of the conversations `conversation_ids` from their turns and usage: for
    a change that is no increment (a turn's time moved earlier, usage lines deleted).

    The rows are locked first, by a statement of their own: the recount's statement then sees every
    write committed before it, and a write that commits after adds its increment to the recount.
    """
    ids = sorted(conversation_ids)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
        list(locked.values_list("pk", flat=True))
        Conversation.objects.filter(pk__in=ids).update(**counts())
