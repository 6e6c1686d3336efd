"""The history page's rows as ready-made text: each cell formatted once in Python.

The row template used to format every cell with template filters (two dates, a duration, intcomma,
floatformat, the price lookup, a URL): most of the page's CPU (docs/performance.md). The values and
the formatting functions are the same as the filters', so the page reads the same.
"""

import uuid
from decimal import ROUND_HALF_UP, Context, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.formats import get_format
from django.utils.timezone import template_localtime

from conversations import search
from conversations.formatting import format_duration
from conversations.models import Conversation

NO_DURATION = "—"
COST_PLACES = Decimal("0.0001")
COST_CONTEXT = Context(prec=40)  # any sum of costs (TOTAL_COST_DIGITS) keeps all its digits
_ANY_ID = uuid.UUID(int=0)


def history_rows(conversations: list[Conversation], query: str = "") -> list[dict]:
    """One dict per conversation (annotated with its figures): url, title, active, snippet (HTML or
    ""), created_iso, created_text, duration, turns, and cost (None when the model has no price)."""
    # One reverse() for the page: the rows' URLs differ only by the id.
    detail_url = reverse("conversations:detail", args=[_ANY_ID])
    months = {month: str(name).title() for month, name in MONTHS_3.items()}  # translated once
    point = get_format("DECIMAL_SEPARATOR")
    return [_row(conversation, query, detail_url, months, point) for conversation in conversations]


def _row(conversation: Conversation, query: str, detail_url: str, months: dict, point: str) -> dict:
    created = template_localtime(conversation.created_at)
    snippet = getattr(conversation, "search_snippet", None)
    return {
        "url": detail_url.replace(str(_ANY_ID), str(conversation.pk)),
        "title": conversation.display_title,
        "active": conversation.status == Conversation.Status.ACTIVE,
        "snippet": search.highlight(snippet, query) if snippet else "",
        "created_iso": created.isoformat(),  # the date filter's "c"
        # The date filter's "M j, Y H:i"
        "created_text": f"{months[created.month]} {created.day}, {created.year:04d} {created:%H:%M}",
        "duration": format_duration(conversation.elapsed) or NO_DURATION,
        "turns": intcomma(conversation.turn_count),
        "cost": _cost(conversation.total_cost, point) if conversation.price_known else None,
    }


def _cost(amount: Decimal, point: str) -> str:
    """What the floatformat:4 filter shows: four places, halves rounded up, no grouping."""
    rounded = amount.quantize(COST_PLACES, rounding=ROUND_HALF_UP, context=COST_CONTEXT)
    return f"{rounded:f}".replace(".", point)
