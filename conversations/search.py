"""Searching a user's conversations by title and transcript.

PostgreSQL: full-text search (`websearch_to_tsquery`, English stemming) over each turn's stored
search vector and its GIN index (migration 0007), with the first matching turn highlighted by `ts_headline`. Other databases (SQLite):
a case-insensitive substring match, highlighted in Python. Either way the matches are the user's
own conversations, newest first, found by one query per page: the planner probes the user's
conversations newest first and stops when the page is full (a common word), or reads the few
matching turns from the index (a rare word). Ranking every match by relevance instead would read all
of them, which grows with the data (docs/performance.md).
"""

import re

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVectorField
from django.db import connections
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from conversations.models import TURN_ORDER, Conversation, Turn

SEARCH_CONFIG = "english"  # the stored vector of migration 0007 is built with the same configuration
# Private-use characters mark the highlighted words, so that the text can be escaped first.
MARK_START, MARK_END = "\ue000", "\ue001"
SNIPPET_CHARS = 160
FEW_MATCHES = 500  # below this many matching turns in all, a search starts from the index
MAX_QUERY_LENGTH = 200


def clean_query(query: str) -> str:
    """The query as searched: no NUL (PostgreSQL refuses it), no surrounding space, bounded length."""
    return query.replace("\x00", "").strip()[:MAX_QUERY_LENGTH]


def search_conversations(
    queryset: QuerySet[Conversation], query: str, *, snippet: bool = True
) -> QuerySet[Conversation]:
    """The conversations of `queryset` whose title or any turn matches `query`, in the queryset's
    order; with `snippet`, each annotated with `search_snippet` (text of its first matching turn;
    matched words marked on PostgreSQL). The API shows no snippet and does not ask for one."""
    query = clean_query(query)
    if not query:
        return queryset
    if connections[queryset.db].vendor != "postgresql":
        matching = Turn.objects.filter(conversation=OuterRef("pk"), text__icontains=query).order_by(
            *TURN_ORDER
        )
        found = queryset.filter(Q(title__icontains=query) | Exists(matching))
        return found.annotate(search_snippet=Subquery(matching.values("text")[:1])) if snippet else found
    found = queryset.filter(Q(title__icontains=query) | _turn_matches(query))
    if not snippet:
        return found
    tsquery = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    matching = (
        Turn.objects.annotate(document=StoredSearchVector())
        .filter(conversation=OuterRef("pk"), document=tsquery)
        .order_by(*TURN_ORDER)
    )
    headline = SearchHeadline(
        "text",
        tsquery,
        config=SEARCH_CONFIG,
        start_sel=MARK_START,
        stop_sel=MARK_END,
        max_words=30,
        min_words=12,
    )
    return found.annotate(search_snippet=Subquery(matching.annotate(snippet=headline).values("snippet")[:1]))


class StoredSearchVector(Func):
    """PostgreSQL: the turn's stored search vector (the generated column `search_vector` of migration
    0007, not a model field), under whatever alias the query gives the turn table."""

    output_field = SearchVectorField()

    def __init__(self):
        super().__init__(F("text"))

    def as_sql(self, compiler, connection, **extra):
        text, params = compiler.compile(self.source_expressions[0])
        return text.removesuffix('"text"') + '"search_vector"', params


def _turn_matches(query: str) -> RawSQL:
    """PostgreSQL: "a turn of this conversation matches", planned for both kinds of words.

    A word with few matches in the whole table (a cheap count from the GIN index, stopped at
    FEW_MATCHES) is looked up in the index once and hashed. A common word is checked per
    conversation, in the page's order, which stops as soon as the page is full (OFFSET 0 keeps
    PostgreSQL from hashing every match of every user instead). Left to itself the planner picks
    one plan for both and is slow for one of them (docs/performance.md). The outer query must read
    the conversation table under its own name, as a top-level queryset does.
    """
    turns, conversation = Turn._meta.db_table, Conversation._meta.db_table
    tsquery = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %s)"
    match = {alias: f"{alias}.search_vector @@ {tsquery}" for alias in "fht"}
    sql = (
        f"CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM {turns} f WHERE {match['f']} "
        f"LIMIT {FEW_MATCHES}) few) < {FEW_MATCHES} "
        f'THEN "{conversation}"."id" IN (SELECT h.conversation_id FROM {turns} h WHERE {match["h"]}) '
        f"ELSE EXISTS (SELECT 1 FROM {turns} t "
        f'WHERE t.conversation_id = "{conversation}"."id" AND {match["t"]} OFFSET 0) END'
    )
    return RawSQL(sql, [query, query, query], output_field=BooleanField())


def staff_search(queryset: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    """Every user's conversations whose title, owner's username or any turn matches (the admin)."""
    query = clean_query(query)
    if not query:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        in_turns = _turn_matches(query)
    else:
        in_turns = Exists(Turn.objects.filter(conversation=OuterRef("pk"), text__icontains=query))
    # Not a join on turns: no DISTINCT, whatever the number of matches per conversation.
    return queryset.filter(Q(title__icontains=query) | Q(owner__username__icontains=query) | in_turns)


def page_of(rows: QuerySet, number: int, size: int) -> tuple[list, bool]:
    """One page of a search and whether another follows, from one query (no count of all matches)."""
    start = (number - 1) * size
    found = list(rows[start : start + size + 1])
    return found[:size], len(found) > size


def highlight(snippet: str | None, query: str) -> SafeString:
    """The snippet as safe HTML with the matched words in <mark>: marks from ts_headline when present,
    else the query's words found case-insensitively, around the first of them."""
    if not snippet:
        return mark_safe("")  # noqa: S308 (a constant)
    if MARK_START not in snippet:
        snippet = _mark_words(snippet, clean_query(query))
    html = escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)  # noqa: S308 (escaped above; only our own tags added)


def _mark_words(text: str, query: str) -> str:
    words = [re.escape(word) for word in re.findall(r"\w+", query)]
    if not words:
        return text[:SNIPPET_CHARS]
    pattern = re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - SNIPPET_CHARS // 3) if first else 0
    window = text[start : start + SNIPPET_CHARS]
    marked = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", window)
    return ("…" if start else "") + marked + ("…" if start + SNIPPET_CHARS < len(text) else "")
