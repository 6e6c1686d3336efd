"""Reading conversations and turns: ownership, order, search and totals. Writes live in services.py."""

import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from conversations import search
from conversations.models import TOTAL_COST_DIGITS, Conversation, Turn, Usage

NOT_FOUND = "This conversation does not exist. It may have been deleted."


def owned_conversation(
    *, user: AbstractBaseUser, pk, queryset: QuerySet[Conversation] | None = None
) -> Conversation:
    """The conversation `pk` of `user` (from `queryset` when given); Http404 when it is not theirs,
    does not exist or `pk` is not a UUID, so that another user's conversation is never confirmed."""
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404(NOT_FOUND) from None
    queryset = Conversation.objects.all() if queryset is None else queryset
    conversation = queryset.filter(owner=user, pk=pk).first()
    if conversation is None:
        raise Http404(NOT_FOUND)
    return conversation


def conversation_with_stats(*, user: AbstractBaseUser, pk) -> Conversation:
    """owned_conversation with the figures of with_stats."""
    return owned_conversation(user=user, pk=pk, queryset=with_stats(Conversation.objects.all()))


def _turns_in_order() -> QuerySet[Turn]:
    return Turn.objects.select_related("usage").in_order()


def ordered_turns(*, conversation: Conversation) -> QuerySet[Turn]:
    """The conversation's turns in transcript order (TURN_ORDER), with their usage."""
    return _turns_in_order().filter(conversation=conversation)


def with_ordered_turns(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Prefetch each conversation's `turns` in transcript order, with their usage."""
    return queryset.prefetch_related(Prefetch("turns", queryset=_turns_in_order()))


def recent_spoken_turns(*, conversation: Conversation, limit: int) -> list[Turn]:
    """The last `limit` turns with words (no tool calls), oldest first."""
    turns = Turn.objects.filter(conversation=conversation).exclude(role=Turn.Role.TOOL).exclude(text="")
    return list(reversed(turns.in_order().reverse().only("role", "text")[:limit]))


def with_stats(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate turn_count, total_tokens, total_cost, last_turn_at and elapsed, one query in all.

    Subqueries rather than joins: counting turns and summing usage over the same join would
    multiply the sums.
    """
    turns = Turn.objects.filter(conversation=OuterRef("pk")).order_by().values("conversation")
    usages = Usage.objects.filter(conversation=OuterRef("pk")).order_by().values("conversation")
    last_turn = turns.annotate(last=Max(Coalesce("ended_at", "started_at", "created_at"))).values("last")
    return queryset.annotate(
        turn_count=Coalesce(Subquery(turns.annotate(n=Count("pk")).values("n")), Value(0)),
        total_tokens=Coalesce(
            Subquery(usages.annotate(n=Sum("total_tokens")).values("n")),
            Value(0),
            output_field=IntegerField(),
        ),
        total_cost=Coalesce(
            Subquery(usages.annotate(n=total_cost()).values("n")),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6),
        ),
        last_turn_at=Subquery(last_turn),
        elapsed=ExpressionWrapper(
            Coalesce("ended_at", "last_turn_at") - F("started_at"), output_field=DurationField()
        ),
    )


def total_cost() -> Sum:
    """The sum of usage costs, typed wide enough for any number of rows."""
    return Sum("cost", output_field=DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6))


def account_conversations(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, newest first, with their stats."""
    return with_stats(Conversation.objects.for_user(user)).order_by("-created_at", "pk")


def account_counts(*, user: AbstractBaseUser) -> dict:
    """How many conversations and turns the user has ("conversation_count", "turn_count")."""
    return {
        "conversation_count": Conversation.objects.for_user(user).count(),
        "turn_count": Turn.objects.filter(conversation__owner=user).count(),
    }


def search_conversations(queryset: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    """The conversations of `queryset` matching `query`, with a highlighted snippet (conversations/search.py)."""
    return search.search_conversations(queryset, query)


def usage_totals(usages: QuerySet[Usage], *, rows: int) -> dict:
    """Responses, tokens and cost of `usages` in all ("totals"), and for the `rows` costliest users
    ("totals_by_user") and the `rows` latest days ("totals_by_day")."""
    usages = usages.order_by()
    totals = {"responses": Count("pk"), "tokens": Sum("total_tokens"), "cost": total_cost()}
    return {
        "totals": usages.aggregate(**totals),
        "totals_by_user": usages.values("user__username").annotate(**totals).order_by("-cost")[:rows],
        "totals_by_day": usages.values("day").annotate(**totals).order_by("-day")[:rows],
    }
