"""Reading conversations and turns: ownership, order, search and totals. Writes live in services.py."""

import uuid
from collections.abc import Iterator
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from conversations import search
from conversations.models import (
    TOTAL_COST_DIGITS,
    TURN_FIELDS,
    TURN_ORDER,
    USAGE_FIELDS,
    Conversation,
    Turn,
    Usage,
)

NOT_FOUND = "This conversation does not exist. It may have been deleted."
FETCH_ROWS = 1000  # transcript rows per fetch from a server-side cursor: few round trips, flat memory
BATCH_TURNS = 2000  # an account's small conversations are read this many turns to a query


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


def with_figures(conversations: list[Conversation]) -> list[Conversation]:
    """Set the figures of with_stats (turn_count, total_tokens, total_cost, elapsed) on each of
    `conversations`, a page of a list, from one grouped query over their own turns and usage.

    with_stats on a list's queryset ran four correlated subqueries per row inside the page's query:
    at 500 turns a conversation, most of a history or search page's time (docs/performance.md).
    Here the turns are counted from the index alone, the usage is read once for both sums, and the
    last turn is read only for a conversation with a start and no end, whose duration runs to it.
    """
    if not conversations:
        return conversations
    ids = [conversation.pk for conversation in conversations]
    running = [c.pk for c in conversations if c.ended_at is None and c.started_at is not None]
    figures = _figure_rows(ids, running)
    for conversation in conversations:
        turns, last_turn_at, tokens, cost = figures.get(conversation.pk, (0, None, 0, None))
        conversation.turn_count = turns
        conversation.total_tokens = tokens
        conversation.total_cost = Decimal(0) if cost is None else cost
        end = conversation.ended_at or last_turn_at
        started = conversation.started_at
        conversation.elapsed = end - started if end is not None and started is not None else None
    return conversations


def _figure_rows(ids: list, running: list) -> dict:
    """{conversation id: (turns, last turn's time, tokens, cost)} of the conversations `ids`, the last
    turn only for those of `running` (else None): one UNION ALL of grouped queries, one row per
    conversation and part.

    Plain SQL: built by the ORM, this query's construction cost more CPU than the page's rendering
    (1.9 ms against 0.3 ms, docs/performance.md). Its values go through the same converters as the
    ORM's (SQLite returns text and floats)."""
    connection = connections[Turn.objects.db]
    types = connection.data_types
    cost_type = types["DecimalField"] % {"max_digits": TOTAL_COST_DIGITS, "decimal_places": 6}
    id_field = Conversation._meta.pk
    by_value = {id_field.get_db_prep_value(pk, connection): pk for pk in ids}
    marks = ", ".join(["%s"] * len(ids))
    turn_table, usage_table = Turn._meta.db_table, Usage._meta.db_table
    sql = (
        f"SELECT conversation_id, COUNT(*), CAST(NULL AS {types['DateTimeField']}), "
        f"CAST(NULL AS {types['BigIntegerField']}), CAST(NULL AS {cost_type}) "
        f"FROM {turn_table} WHERE conversation_id IN ({marks}) GROUP BY conversation_id "
        f"UNION ALL SELECT conversation_id, NULL, NULL, SUM(total_tokens), SUM(cost) "
        f"FROM {usage_table} WHERE conversation_id IN ({marks}) GROUP BY conversation_id"
    )
    params = [*by_value, *by_value]
    if running:
        sql += (
            " UNION ALL SELECT conversation_id, NULL, MAX(COALESCE(ended_at, started_at, created_at)), NULL, NULL "
            f"FROM {turn_table} WHERE conversation_id IN ({', '.join(['%s'] * len(running))}) "
            "GROUP BY conversation_id"
        )
        params += [id_field.get_db_prep_value(pk, connection) for pk in running]
    time_value = Value(None, output_field=DateTimeField())
    cost_value = Value(None, output_field=DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6))
    converters = [
        (2, time_value, connection.ops.get_db_converters(time_value)),
        (4, cost_value, connection.ops.get_db_converters(cost_value)),
    ]
    figures: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            row = list(row)
            for index, expression, functions in converters:
                for convert in functions:
                    row[index] = convert(row[index], expression, connection)
            known = figures.setdefault(by_value[row[0]], [0, None, 0, None])
            for index, value in enumerate(row[1:]):
                if value is not None:
                    known[index] = value
    return figures


def total_cost() -> Sum:
    """The sum of usage costs, typed wide enough for any number of rows."""
    return Sum("cost", output_field=DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6))


def spent_on(*, day) -> Decimal:
    """The estimated cost of every response on `day`, in USD, from the usage ledger."""
    return Usage.objects.filter(day=day).aggregate(spent=total_cost())["spent"] or Decimal(0)


def owned_conversations(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, newest first, without figures: a list adds them to its page
    (with_figures)."""
    return Conversation.objects.for_user(user).order_by("-created_at", "pk")


def account_conversations(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, newest first, with their stats (every one of them: the exports)."""
    return with_stats(owned_conversations(user=user))


def account_counts(*, user: AbstractBaseUser) -> dict:
    """How many conversations and turns the user has ("conversation_count", "turn_count")."""
    return {
        "conversation_count": Conversation.objects.for_user(user).count(),
        "turn_count": Turn.objects.filter(conversation__owner=user).count(),
    }


def search_conversations(
    queryset: QuerySet[Conversation], query: str, *, snippet: bool = True
) -> QuerySet[Conversation]:
    """The conversations of `queryset` matching `query`, with a highlighted snippet unless `snippet`
    is False (conversations/search.py)."""
    return search.search_conversations(queryset, query, snippet=snippet)


def usage_totals(usages: QuerySet[Usage], *, rows: int) -> dict:
    """Responses, voice time (GPT-Live's billed seconds), tokens and cost of `usages` in all
    ("totals"), and for the `rows` costliest users ("totals_by_user") and the `rows` latest days
    ("totals_by_day")."""
    usages = usages.order_by()
    totals = {
        "responses": Count("pk", filter=Q(seconds__isnull=True)),  # a time row is not a response
        "seconds": Sum("seconds"),
        "tokens": Sum("total_tokens"),
        "cost": total_cost(),
    }
    return {
        "totals": usages.aggregate(**totals),
        "totals_by_user": usages.values("user__username").annotate(**totals).order_by("-cost")[:rows],
        "totals_by_day": usages.values("day").annotate(**totals).order_by("-day")[:rows],
    }


# --- Transcripts for the exports --------------------------------------------------------------------


class IsoTime(Func):
    """A time stamp as the API writes it in UTC ("2026-12-02T11:59:13.644557Z", no fraction when it is
    zero), made by the database: turning each of a million timestamps into a Python datetime and back
    into text was most of an export's time (docs/performance.md)."""

    output_field = TextField()
    POSTGRESQL = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
        " '.000000Z', 'Z')"
    )

    def as_sql(self, compiler, connection, **extra):
        # SQLite stores Django's text "2026-12-02 11:59:13.644557" (no fraction when it is zero).
        return super().as_sql(
            compiler, connection, template="replace(%(expressions)s, ' ', 'T') || 'Z'", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=self.POSTGRESQL, **extra)


_TIMES = {field for field in TURN_FIELDS.values() if isinstance(Turn._meta.get_field(field), DateTimeField)}
_TOTAL_TOKENS = USAGE_FIELDS.index("total_tokens")


def _transcript_rows(turns: QuerySet[Turn]) -> Iterator[tuple[uuid.UUID, dict]]:
    """Each turn's conversation id and the turn as the API shows it in UTC (TURN_FIELDS, then
    `usage`), built from plain tuples: an export has no use for model instances, and its time stamps
    come as text from the database (IsoTime)."""
    names = list(TURN_FIELDS)
    columns = [IsoTime(field) if field in _TIMES else field for field in TURN_FIELDS.values()]
    usage = [f"usage__{field}" for field in USAGE_FIELDS]
    split = 1 + len(names)
    for row in turns.values_list("conversation_id", *columns, *usage).iterator(chunk_size=FETCH_ROWS):
        record = dict(zip(names, row[1:split], strict=True))
        counts = row[split:]
        if counts[_TOTAL_TOKENS] is None:
            record["usage"] = None
        else:
            record["usage"] = dict(zip(USAGE_FIELDS, counts, strict=True))
            record["usage"]["cost"] = str(record["usage"]["cost"])
        yield row[0], record


def transcript(*, conversation: Conversation) -> Iterator[dict]:
    """The conversation's turns in transcript order, each as the API shows it, times in UTC: what
    conversations/exports.py renders."""
    rows = _transcript_rows(Turn.objects.filter(conversation=conversation).in_order())
    return (record for _, record in rows)


def transcripts(conversations: QuerySet[Conversation]) -> Iterator[tuple[Conversation, Iterator[dict]]]:
    """Each conversation of `conversations` (annotated by with_stats), newest first, with its turns as
    `transcript` gives them, handed out one by one so that memory stays flat however big the account.

    Small conversations are read together, about BATCH_TURNS turns to a query (one sorted query for
    a whole account was a sort of a million rows before the first byte). A big conversation is read
    alone, streamed in the order of its index.
    """
    for batch, big in conversation_batches(conversations):
        if big:
            yield batch[0], transcript(conversation=batch[0])
        else:
            yield from _with_rows(batch, _batch_rows(batch))


def conversation_batches(conversations: QuerySet[Conversation]) -> Iterator[tuple[list[Conversation], bool]]:
    """The conversations in export order, in batches of about BATCH_TURNS turns; True marks a batch
    of one conversation too big to hold."""
    batch, batch_turns = [], 0
    for conversation in conversations.order_by("-created_at", "-pk").iterator(chunk_size=FETCH_ROWS):
        if conversation.turn_count >= BATCH_TURNS:
            if batch:
                yield batch, False
            batch, batch_turns = [], 0
            yield [conversation], True
            continue
        batch.append(conversation)
        batch_turns += conversation.turn_count
        if batch_turns >= BATCH_TURNS:
            yield batch, False
            batch, batch_turns = [], 0
    if batch:
        yield batch, False


def _batch_rows(batch: list[Conversation]) -> list[tuple[uuid.UUID, dict]]:
    """The turns of a batch of conversations, in export order, read at once (at most ~2×BATCH_TURNS)."""
    turns = Turn.objects.filter(conversation__in=[conversation.pk for conversation in batch])
    return list(
        _transcript_rows(turns.order_by("-conversation__created_at", "-conversation_id", *TURN_ORDER))
    )


def _with_rows(batch: list[Conversation], rows: list) -> Iterator[tuple[Conversation, Iterator[dict]]]:
    """The conversations of `batch` (in export order), each with its own of `rows` (the batch's turns
    in the same order)."""
    rows = iter(rows)
    head = [next(rows, None)]  # the first row not handed out yet

    def rows_of(pk) -> Iterator[dict]:
        while head[0] is not None and head[0][0] == pk:
            yield head[0][1]
            head[0] = next(rows, None)

    for conversation in batch:
        own = rows_of(conversation.pk)
        yield conversation, own
        for _ in own:  # rows the caller left unread must not be taken for the next conversation's
            pass
