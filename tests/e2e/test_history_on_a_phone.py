"""On a 390 px phone the history detail keeps a margin on both sides: nothing runs into the edge,
whatever the transcript holds (long deployment names, tool names, unbroken JSON or URLs)."""

import pytest

from conversations import figures
from conversations.models import Conversation, Turn
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
MARGIN = 8  # px the page keeps free at each side of the screen
UNBROKEN = "x" * 120

# Every box on the page, as [description, left, right], outermost first.
BOXES = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getClientRects().length)
  .map(e => {
    const r = e.getBoundingClientRect();
    return [e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''), r.left, r.right];
  })"""


@pytest.fixture
def long_transcript(django_user_model, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; these ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw-alice-e2e-12345")
    conversation = Conversation.objects.create(
        owner=alice,
        title=f"Weather {UNBROKEN}",
        model="contoso-gpt-realtime-deployment-production-eastus2-westeurope",
        voice="marin",
    )
    turns = [
        {"role": "user", "text": f"Look at https://example.com/{UNBROKEN}/index.html please"},
        {
            "role": "tool",
            "text": "",
            "tool_name": "get_weather_for_a_very_long_tool_name_that_goes_on_and_on_and_on",
            "arguments": f'{{"location":"Rio de Janeiro","note":"{UNBROKEN}"}}',
            "output": f'{{"conditions":"{UNBROKEN}"}}',
        },
        {"role": "assistant", "text": f"The code is {UNBROKEN}."},
    ]
    for position, fields in enumerate(turns):
        Turn.objects.create(conversation=conversation, item_id=f"i{position}", position=position, **fields)
    figures.recount([conversation.pk])  # stored directly: the figures as the write paths keep them
    return alice, conversation


def test_history_detail_cards_keep_a_margin_on_a_phone(live_server, long_transcript, browser):
    alice, conversation = long_transcript
    page = browser()
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, alice)
    page.goto(live_server.url + conversation.get_absolute_url())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cards = page.evaluate(BOXES.replace("main *", "main .card"))
    assert len(cards) == 3  # transcript, download, manage
    outside = [
        f"{name}: {left:.0f}–{right:.0f}"
        for name, left, right in page.evaluate(BOXES)
        if left < MARGIN or right > PHONE["width"] - MARGIN
    ]
    screen = f"Past the {MARGIN} px margin of a {PHONE['width']} px screen:\n"
    assert outside == [], screen + "\n".join(outside)
