"""Reading conversations and turns: ownership, order, search and totals. Writes live in services.py;
the figures of each conversation are stored on it (figures.py)."""

import functools
import uuid
from collections.abc import Iterator
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextField,
)
from django.http import Http404

from conversations import search, turn_insert
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


def total_cost() -> Sum:
    """The sum of usage costs, typed wide enough for any number of rows."""
    return Sum("cost", output_field=DecimalField(max_digits=TOTAL_COST_DIGITS, decimal_places=6))


def spent_on(*, day) -> Decimal:
    """The estimated cost of every response on `day`, in USD, from the usage ledger."""
    return Usage.objects.filter(day=day).aggregate(spent=total_cost())["spent"] or Decimal(0)


def owned_conversations(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, newest first, with their figures (stored on each: figures.py)."""
    return Conversation.objects.for_user(user).order_by("-created_at", "pk")


# What the history page reads of each conversation: its rows (history_rows.py) and the figures.
HISTORY_FIELDS = (
    "id",
    "title",
    "status",
    "model",
    "created_at",
    "started_at",
    "ended_at",
    "turn_count",
    "total_tokens",
    "total_cost",
    "last_turn_at",
)


def history_page(*, user: AbstractBaseUser, number: int, per_page: int) -> tuple[list[Conversation], int]:
    """Page `number` (from 1) of owned_conversations(user), the HISTORY_FIELDS of each, with the count
    of all of them: one statement, its count a scalar subquery. No rows past the end.

    Plain SQL, each value through the ORM's converters: built by the ORM (pagination.counted_page)
    the same query cost 0.6 ms of CPU to construct, a tenth of the page's (docs/performance.md).
    """
    connection = connections[Conversation.objects.db]
    sql, converters = _history_sql(connection.vendor)
    owner = Conversation._meta.get_field("owner").get_db_prep_value(user.pk, connection)
    # PostgreSQL: prepared once per database connection, as the ingest statement (turn_insert.py),
    # so that the server neither parses nor plans it again for every page.
    postgresql = connection.vendor == "postgresql"
    with turn_insert.prepared_cursor(connection) if postgresql else connection.cursor() as cursor:
        cursor.execute(sql, [owner, owner, per_page, (number - 1) * per_page])
        rows = cursor.fetchall()
    if not rows:
        return [], 0
    total = rows[0][-1]
    conversations = []
    for row in rows:
        values = list(row[:-1])
        for index, column, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        conversations.append(Conversation.from_db(connection.alias, HISTORY_FIELDS, values))
    return conversations, total


@functools.cache
def _history_sql(vendor: str) -> tuple[str, list]:
    """The statement of history_page and, per column with any, the ORM's converters (with the
    expression each takes): none on PostgreSQL, text to datetimes and decimals on SQLite."""
    connection = connections[Conversation.objects.db]
    table = Conversation._meta.db_table
    fields = [Conversation._meta.get_field(name) for name in HISTORY_FIELDS]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        # As the ORM's compiler: the backend's converters, then the field's.
        if functions := connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            converters.append((index, column, functions))
    sql = (
        f"SELECT {', '.join(field.column for field in fields)}, "
        f"(SELECT COUNT(*) FROM {table} WHERE owner_id = %s) "
        f"FROM {table} WHERE owner_id = %s ORDER BY created_at DESC, id ASC LIMIT %s OFFSET %s"
    )
    return sql, converters


def account_conversations(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, newest first, every one of them (the exports)."""
    return owned_conversations(user=user)


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
    """Each conversation of `conversations`, newest first, with its turns as
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
