"""Which price table prices a model: the one place that decides whether a cost can be estimated."""

from django.conf import settings


def token_prices(model: str) -> dict | None:
    """USD per 1M tokens of each kind for a token-billed model (REALTIME_PRICES), or None."""
    return settings.REALTIME_PRICES.get(model)


def time_prices(model: str) -> dict | None:
    """USD per minute for a GPT-Live model (LIVE_PRICES), or None."""
    return settings.LIVE_PRICES.get(model)


def price_known(model: str) -> bool:
    """Whether a price table has `model`, so that its cost can be estimated."""
    return token_prices(model) is not None or time_prices(model) is not None
