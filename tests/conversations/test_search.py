"""Searching one's history: what matches, in which order, and how the match is shown."""

import pytest
from django.db import connection
from turn_helpers import make_turn, turn_body

from conversations import search, selectors, services
from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search needs PostgreSQL; SQLite matches substrings"
)


def found(user, query):
    return [c.title for c in search.search_conversations(selectors.account_conversations(user=user), query)]


def test_title_and_transcript_matches_are_listed_newest_first(alice):
    Conversation.objects.create(owner=alice, title="Umbrella shopping")
    Conversation.objects.create(owner=alice, title="Nothing to see")
    older = Conversation.objects.create(owner=alice, title="Old chat")
    make_turn(older, "u1", text="Where is my umbrella?")
    newer = Conversation.objects.create(owner=alice, title="New chat")
    make_turn(newer, "u1", text="Umbrella or raincoat tomorrow?")
    assert found(alice, "umbrella") == ["New chat", "Old chat", "Umbrella shopping"]


@on_postgres
def test_rare_and_common_words_are_found_alike(alice, settings, monkeypatch):
    monkeypatch.setattr(search, "FEW_MATCHES", 3)  # "umbrella" is common here, "zanzibar" rare
    for i in range(4):
        make_turn(Conversation.objects.create(owner=alice, title=f"C{i}"), "u1", text="umbrella")
    make_turn(Conversation.objects.get(title="C1"), "u2", position=1, text="zanzibar")
    assert found(alice, "umbrella") == ["C3", "C2", "C1", "C0"]
    assert found(alice, "zanzibar") == ["C1"]


def test_a_search_reads_only_the_searchers_conversations(alice, bob):
    make_turn(Conversation.objects.create(owner=bob, title="Bob's"), "u1", text="umbrella")
    assert found(alice, "umbrella") == []


def test_the_matching_turn_is_shown_with_the_words_marked_and_escaped(alice_client, alice):
    conversation = Conversation.objects.create(owner=alice, title="Shopping")
    make_turn(conversation, "u1", text="Hello there")
    make_turn(conversation, "u2", position=1, text="Buy an <b>umbrella</b> & boots before the rain")
    page = alice_client.get("/conversations/", {"q": "umbrella"}).content.decode()
    assert "<mark>umbrella</mark>" in page
    assert "<b>" not in page and "&amp; boots" in page
    assert "Hello there" not in page  # the snippet is the matching turn


def test_a_query_with_nul_or_only_space_is_harmless(alice_client, alice_conversation):
    assert alice_client.get("/conversations/", {"q": "\x00"}).status_code == 200
    assert alice_client.get("/conversations/", {"q": "   "}).context["conversations"][0] == alice_conversation


@on_postgres
def test_postgres_matches_word_forms_and_web_search_syntax(alice):
    make_turn(Conversation.objects.create(owner=alice, title="A"), "u1", text="It rained all day in Bergen")
    make_turn(Conversation.objects.create(owner=alice, title="B"), "u1", text="Rain and wind in Oslo")
    assert set(found(alice, "raining")) == {"A", "B"}
    assert found(alice, "rain -oslo") == ["A"]
    assert found(alice, '"wind in oslo"') == ["B"]


def test_highlight_marks_the_query_words_in_plain_text():
    html = search.highlight("Take a coat & an Umbrella today", "umbrella")
    assert html == "Take a coat &amp; an <mark>Umbrella</mark> today"
    assert search.highlight(None, "x") == ""


def test_a_late_transcript_is_searchable_and_the_old_words_are_not(alice, alice_conversation):
    # The browser posts a turn first and its transcript later: the stored search vector follows.
    services.record_turn(conversation=alice_conversation, body=turn_body("u1", text="", position=0))
    services.record_turn(conversation=alice_conversation, body=turn_body("u1", text="Pack an umbrella"))
    assert found(alice, "umbrella") == ["Weather in Oslo"]
    Turn.objects.filter(item_id="u1").update(text="Pack a raincoat")
    assert found(alice, "umbrella") == []
    assert found(alice, "raincoat") == ["Weather in Oslo"]
