"""The figures of a list's rows (turns, tokens, cost, duration) are stored on each conversation
(conversations/figures.py): they must be the figures counted from its turns and usage, on SQLite
and on PostgreSQL, for every kind of conversation, and on every page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone
from turn_helpers import make_turn

from conversations import figures, selectors
from conversations.history_rows import history_rows_html
from conversations.models import Conversation, Turn, Usage

pytestmark = pytest.mark.django_db

FIGURES = ("turn_count", "total_tokens", "total_cost", "elapsed")


def _usage(conversation, *, tokens=0, cost="0", turn=None, session=None, seconds=None) -> Usage:
    line = Usage.objects.create(
        conversation=conversation,
        user=conversation.owner,
        turn=turn,
        day=timezone.now().date(),
        total_tokens=tokens,
        cost=Decimal(cost),
        session=session,
        seconds=seconds,
    )
    figures.recount([conversation.pk])  # stored directly: the figures as the write paths keep them
    return line


@pytest.fixture
def every_kind(alice):
    """Conversations of every shape the figures distinguish, newest first."""
    now = timezone.now()
    empty = Conversation.objects.create(owner=alice, title="no turns, never started")
    ended = Conversation.objects.create(
        owner=alice, title="ended", started_at=now - timedelta(minutes=5), ended_at=now
    )
    running = Conversation.objects.create(
        owner=alice, title="running", started_at=now - timedelta(seconds=90)
    )
    started_no_turns = Conversation.objects.create(owner=alice, title="started, no turns", started_at=now)
    live = Conversation.objects.create(owner=alice, title="GPT-Live", upstream="live", started_at=now)
    for i in range(3):
        turn = make_turn(ended, f"e{i}", position=i)
        _usage(ended, tokens=100 + i, cost="0.000050", turn=turn)
    make_turn(running, "r0", position=0, ended_at=now - timedelta(seconds=30))
    make_turn(running, "r1", position=1, started_at=now - timedelta(seconds=20))  # no end yet
    tool = make_turn(live, "l0", "tool", position=0, tool_name="ask")
    _usage(live, tokens=40, cost="0.000123", turn=tool)
    _usage(live, cost="0.125000", session=1, seconds=Decimal("60.5"))  # session time, no turn
    return [empty, ended, running, started_no_turns, live]


def _figures(conversation) -> tuple:
    return tuple(getattr(conversation, name) for name in FIGURES)


def test_the_figures_are_those_counted_for_every_kind_of_conversation(alice, every_kind):
    counted = figures.counted(Conversation.objects.filter(owner=alice))
    expected = {
        c.pk: (c.counted_turn_count, c.counted_total_tokens, c.counted_total_cost, c.counted_last_turn_at)
        for c in counted
    }
    shown = list(selectors.owned_conversations(user=alice))
    assert {c.pk: (*_figures(c)[:3], c.last_turn_at) for c in shown} == expected
    by_title = {c.title: c for c in shown}
    assert _figures(by_title["ended"]) == (3, 303, Decimal("0.000150"), timedelta(minutes=5))
    assert by_title["running"].elapsed == timedelta(seconds=70)  # to its last turn's start
    assert _figures(by_title["GPT-Live"])[:3] == (1, 40, Decimal("0.125123"))  # time costs too
    assert by_title["no turns, never started"].elapsed is None


def test_the_figures_of_a_later_page_are_its_own_conversations(alice_client, alice):
    for i in range(25):
        conversation = Conversation.objects.create(owner=alice, title=f"Talk {i}")
        for position in range(i):
            make_turn(conversation, f"t{position}", position=position)
    # Newest first: page 2 holds the five oldest, Talk 4 … Talk 0.
    rows = alice_client.get("/conversations/", {"page": 2}).context["conversations"]
    assert [(c.title, c.turn_count) for c in rows] == [(f"Talk {i}", i) for i in range(4, -1, -1)]


def test_the_api_figures_of_a_later_page_are_its_own_conversations(alice_token_api, alice):
    for i in range(25):
        conversation = Conversation.objects.create(owner=alice, title=f"Talk {i}")
        for position in range(i):
            turn = make_turn(conversation, f"t{position}", position=position)
            _usage(conversation, tokens=10, cost="0.000100", turn=turn)
    body = alice_token_api.get("/api/conversations/", {"page": 2}).json()
    assert body["count"] == 25
    assert [(r["title"], r["turn_count"], r["total_tokens"], r["cost"]) for r in body["results"]] == [
        (f"Talk {i}", i, 10 * i, f"{Decimal('0.000100') * i:.6f}") for i in range(4, -1, -1)
    ]


def test_search_rows_carry_their_figures(alice_client, alice_token_api, alice, every_kind):
    make_turn(every_kind[1], "needle", position=9, text="the word zanzibar")
    page = alice_client.get("/conversations/", {"q": "zanzibar"})
    ((row,),) = [page.context["conversations"]]
    assert (row.title, row.turn_count, row.total_tokens) == ("ended", 4, 303)
    (found,) = alice_token_api.get("/api/conversations/", {"search": "zanzibar"}).json()["results"]
    assert (found["title"], found["turn_count"], found["total_tokens"], found["cost"]) == (
        "ended",
        4,
        303,
        "0.000150",
    )


@pytest.mark.parametrize("page", ["999", "0", "last", "x"])
def test_out_of_range_pages_behave_as_before(alice_client, alice_token_api, alice, page):
    Conversation.objects.bulk_create([Conversation(owner=alice, title=f"Talk {i}") for i in range(25)])
    html = alice_client.get("/conversations/", {"page": page})
    assert html.status_code == 200
    # The page's paginator: a number past the end (or below 1) shows the last page, anything else the first.
    expected_page = {"999": 2, "0": 2, "last": 1, "x": 1}[page]
    assert html.context["page"]["number"] == expected_page
    api = alice_token_api.get("/api/conversations/", {"page": page})
    assert api.status_code == (200 if page == "last" else 404)


# The row loop of the history template before the rows were made in Python (history_rows.py).
TEMPLATE_ROWS = """{% load history humanize %}{% for conversation in conversations %}
          <tr>
            <td data-label="Title">
              <a href="{{ conversation.get_absolute_url }}">{{ conversation.display_title }}</a>
              {% if conversation.status == "active" %} <span class="badge">active</span>{% endif %}
              {% if conversation.search_snippet %}<p class="search-snippet">{{ conversation.search_snippet|highlight:q }}</p>{% endif %}
            </td>
            <td data-label="Date"><time datetime="{{ conversation.created_at|date:'c' }}">{{ conversation.created_at|date:"M j, Y H:i" }}</time></td>
            <td data-label="Duration">{{ conversation.elapsed|duration|default:"—" }}</td>
            <td data-label="Turns">{{ conversation.turn_count|intcomma }}</td>
            <td data-label="Cost">{% if conversation.price_known %}${{ conversation.total_cost|floatformat:4 }}{% else %}<span class="muted">price unknown</span>{% endif %}</td>
          </tr>
        {% endfor %}"""


@pytest.mark.parametrize("query", ["", "oslo", "<b>"])
def test_the_rows_read_as_the_template_loop_wrote_them(alice, every_kind, query):
    every_kind[0].title = "<script>alert('x')</script> & more"
    every_kind[0].save()
    every_kind[1].model = "gpt-realtime-9"  # no price
    every_kind[1].save()
    make_turn(every_kind[2], "q", position=5, text="Cold in <b>Oslo</b> & windy " * 20)
    long = Conversation.objects.create(owner=alice, title="Long", status="ended")
    Turn.objects.bulk_create(  # a turn count with a thousands separator
        Turn(conversation=long, item_id=f"t{i}", role="user", position=i, text="") for i in range(1001)
    )
    figures.recount([long.pk])
    owned = selectors.owned_conversations(user=alice)
    found = selectors.search_conversations(owned, query) if query else owned
    expected = Template(TEMPLATE_ROWS).render(Context({"conversations": list(found), "q": query}))
    assert history_rows_html(list(found), query) == expected
    if query == "oslo":
        assert "<mark>" in expected
