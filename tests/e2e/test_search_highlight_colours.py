"""The matched words of a search stay readable in both colour schemes: the highlight's text keeps
a WCAG AA contrast (4.5:1) with its background."""

import pytest

from conversations.models import Conversation, Turn
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

# [text colour, background colour] of the first highlighted word, as "rgb(r, g, b)".
MARK_COLOURS = """() => {
  const style = getComputedStyle(document.querySelector('.search-snippet mark'));
  return [style.color, style.backgroundColor];
}"""


def luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlighted_search_words_are_readable(live_server, browser, django_user_model, monkeypatch, scheme):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw-alice-e2e-12345")
    conversation = Conversation.objects.create(owner=alice, title="Trip")
    Turn.objects.create(
        conversation=conversation, item_id="u1", role="user", text="Do I need an umbrella in Oslo?"
    )
    page = browser()
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server.url, alice)
    page.goto(live_server.url + "/conversations/?q=umbrella")
    text, background = page.evaluate(MARK_COLOURS)
    assert contrast(text, background) >= 4.5, (scheme, text, background)
