"""The history page's table rows, as HTML made in Python.

The rows were a template loop that formatted every cell with filters (two dates, a duration,
intcomma, floatformat, the price lookup, a URL): about two thirds of the page's CPU. Even with
the values formatted beforehand, Django's template engine spent ~0.1 ms per row on resolving and
escaping its variables (docs/performance.md). Here each cell is formatted once, with the same
functions as the filters or exact equivalents, and each row is ROW_HTML filled with its escaped
cells, so the page reads exactly as before.
"""

import functools
import uuid
from decimal import ROUND_HALF_UP, Context, Decimal
from html import escape as escape_text

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone
from django.utils.translation import get_language

from conversations import search
from conversations.formatting import format_duration
from conversations.models import Conversation

NO_DURATION = "—"
COST_PLACES = Decimal("0.0001")
COST_CONTEXT = Context(prec=40)  # any sum of costs (TOTAL_COST_DIGITS) keeps all its digits
_ANY_ID = uuid.UUID(int=0)
_ANY_ID_TEXT = str(_ANY_ID)
# One <tr> of templates/conversations/conversation_list.html's table, with the whitespace the
# template loop had around it.
ROW_HTML = """
          <tr>
            <td data-label="Title">
              <a href="{url}">{title}</a>
              {badge}
              {snippet}
            </td>
            <td data-label="Date"><time datetime="{created_iso}">{created_text}</time></td>
            <td data-label="Duration">{duration}</td>
            <td data-label="Turns">{turns}</td>
            <td data-label="Cost">{cost}</td>
          </tr>
        """
ACTIVE_BADGE = mark_safe(' <span class="badge">active</span>')  # noqa: S308 (a constant)
PRICE_UNKNOWN = mark_safe('<span class="muted">price unknown</span>')  # noqa: S308 (a constant)


def history_rows_html(conversations: list[Conversation], query: str = "") -> SafeString:
    """The table rows of `conversations` (with their stored figures), as HTML."""
    return mark_safe("".join(_row_html(row) for row in history_rows(conversations, query)))  # noqa: S308 (each cell escaped in _row_html)


def _row_html(row: dict) -> str:
    """What format_html(ROW_HTML, ...) gave, without its per-argument checks for lazy and safe
    strings (a third of the rows' CPU): the text cells go through the stdlib's html.escape, which is
    what django.utils.html.escape calls; the snippet and the constants are HTML already."""
    return ROW_HTML.format(
        url=escape_text(row["url"]),
        title=escape_text(row["title"]),
        badge=ACTIVE_BADGE if row["active"] else "",
        snippet=f'<p class="search-snippet">{row["snippet"]}</p>' if row["snippet"] else "",
        created_iso=escape_text(row["created_iso"]),
        created_text=escape_text(row["created_text"]),
        duration=escape_text(row["duration"]),
        turns=escape_text(row["turns"]),
        cost=PRICE_UNKNOWN if row["cost"] is None else "$" + escape_text(row["cost"]),
    )


def history_rows(conversations: list[Conversation], query: str = "") -> list[dict]:
    """One dict per conversation (with its stored figures): url, title, active, snippet (HTML or
    ""), created_iso, created_text, duration, turns, and cost (None when the model has no price)."""
    # One reverse() for the page: the rows' URLs differ only by the id.
    detail_url = reverse("conversations:detail", args=[_ANY_ID])
    months = _months(get_language())
    point = get_format("DECIMAL_SEPARATOR")
    # What template_localtime does to each date (~8 µs a call), with the time zone looked up once.
    zone = get_current_timezone() if settings.USE_TZ else None
    return [_row(conversation, query, detail_url, months, point, zone) for conversation in conversations]


@functools.cache
def _months(language: str | None) -> dict:
    """The date filter's month abbreviations ("M") in the active language: translating the twelve
    names for every page cost more than a tenth of its rows."""
    return {month: str(name).title() for month, name in MONTHS_3.items()}


def _row(conversation: Conversation, query: str, detail_url: str, months: dict, point: str, zone) -> dict:
    created = conversation.created_at
    if zone is not None and created.utcoffset() is not None:
        created = created.astimezone(zone)
    snippet = getattr(conversation, "search_snippet", None)
    return {
        "url": detail_url.replace(_ANY_ID_TEXT, str(conversation.pk)),
        "title": conversation.display_title,
        "active": conversation.status == Conversation.Status.ACTIVE,
        "snippet": search.highlight(snippet, query) if snippet else "",
        "created_iso": created.isoformat(),  # the date filter's "c"
        # The date filter's "M j, Y H:i"
        "created_text": f"{months[created.month]} {created.day}, {created.year:04d} {created:%H:%M}",
        "duration": format_duration(conversation.elapsed) or NO_DURATION,
        "turns": _count(conversation.turn_count),
        "cost": _cost(conversation.total_cost, point) if conversation.price_known else None,
    }


def _count(number: int) -> str:
    """What the intcomma filter shows: below 1,000 no separator is possible (intcomma formats a number
    for the locale, ~11 µs)."""
    return str(number) if 0 <= number < 1000 else intcomma(number)


def _cost(amount: Decimal, point: str) -> str:
    """What the floatformat:4 filter shows: four places, halves rounded up, no grouping."""
    rounded = amount.quantize(COST_PLACES, rounding=ROUND_HALF_UP, context=COST_CONTEXT)
    return f"{rounded:f}".replace(".", point)
