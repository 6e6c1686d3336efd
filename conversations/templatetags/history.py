"""Filters of the history pages."""

from datetime import timedelta
from decimal import Decimal

from django import template

from conversations import search
from conversations.formatting import format_duration

register = template.Library()


@register.filter
def duration(elapsed) -> str:
    """A timedelta or a number of seconds as "3 min 20 s"; empty when unknown."""
    if isinstance(elapsed, int | float | Decimal):
        elapsed = timedelta(seconds=float(elapsed))
    return format_duration(elapsed)


@register.filter
def highlight(snippet, query) -> str:
    """A search snippet as safe HTML, the matched words in <mark>."""
    return search.highlight(snippet, query)
