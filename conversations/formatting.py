"""How figures read for people: durations and costs, for pages, the admin and the exports alike."""

from datetime import timedelta
from decimal import Decimal


def format_duration(elapsed: timedelta | None) -> str:
    """A timedelta as "1 h 5 min", "3 min 20 s" or "7 s"; empty when unknown."""
    if elapsed is None:
        return ""
    seconds = max(int(elapsed.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def format_cost(amount: Decimal | None) -> str:
    """An estimated cost in US dollars, to the hundredth of a cent (without the currency sign)."""
    return f"{amount or 0:.4f}"


def usage_line(conversation) -> str:
    """ "1234 tokens, estimated cost $0.0123", or why there is no cost (a model without a price)."""
    tokens = getattr(conversation, "total_tokens", 0)
    # GPT-Live bills voice time; its only tokens are the delegation backend's.
    counted = (
        f"{tokens} backend tokens plus voice time" if conversation.upstream == "live" else f"{tokens} tokens"
    )
    if not conversation.price_known:
        return f"{counted}, price unknown for model {conversation.model or '(none)'}"
    return f"{counted}, estimated cost ${format_cost(getattr(conversation, 'total_cost', 0))}"
