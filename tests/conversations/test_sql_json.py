"""The account export written by PostgreSQL (conversations/sql_json.py) is the Python renderer's file,
byte for byte: every kind of turn, awkward text, empty values, batches and big conversations."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from turn_helpers import make_turn

from conversations import exports, figures, selectors, sql_json
from conversations.models import Conversation, Turn, Usage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and SQL JSON are PostgreSQL's"),
]

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# What a transcript may hold: markup a page could run, JSON's own escapes, control characters
# (among them those sql_json uses as COPY's delimiter and quote and as its marks), and
# characters outside ASCII and outside the Basic Multilingual Plane.
AWKWARD = (
    '</script><script>alert("x")</script> <!-- & &amp; \\ back\\slash "quoted" \'single\'\n'
    'second line\ttab\rreturn \x01\x02\x1d\x1e\x1f\x7f \u2028 ü 日本語 e\u0301 🎙️👩‍👩‍👧 {"not": "json"}'
)


def python_file(conversations) -> bytes:
    return "".join(exports.render_conversations_json(selectors.transcripts(conversations))).encode()


def sql_file(conversations) -> bytes:
    return b"".join(sql_json.render_conversations_json(conversations))


def assert_same_file(owner) -> list:
    conversations = selectors.account_conversations(user=owner)
    by_python, by_sql = python_file(conversations), sql_file(conversations)
    assert json.loads(by_sql) == json.loads(by_python)
    assert by_sql == by_python
    return json.loads(by_sql)


def usage(turn: Turn, cost: str, **counts) -> Usage:
    line = Usage.objects.create(
        turn=turn,
        conversation=turn.conversation,
        user=turn.conversation.owner,
        model="gpt-realtime",
        day=START.date(),
        cost=Decimal(cost),
        **counts,
    )
    figures.recount([turn.conversation_id])  # stored directly: the figures as a write path keeps them
    return line


@pytest.fixture
def every_kind_of_turn(alice_conversation):
    at = lambda seconds: START + timedelta(seconds=seconds)  # noqa: E731
    conversation = alice_conversation
    conversation.started_at = START
    conversation.save()
    make_turn(conversation, "u1", text=AWKWARD, started_at=at(1), ended_at=at(3.6445))  # .644500
    make_turn(
        conversation,
        "f1",
        "tool",
        position=1,
        previous_item_id="u1",
        text="",
        tool_name="get_weather",
        call_id="call_<1>&",
        arguments='{"city": "Oslo & </script>"}',
        output='{"temperature": -3, "note": "ünïcode\\n"}',
        started_at=at(4.000001),
    )
    interrupted = make_turn(
        conversation, "a1", "assistant", position=2, text="It is", status="interrupted", audio_end_ms=1500
    )
    usage(
        interrupted,
        "0.006966",
        text_in=132,
        text_cached=64,
        audio_in=13,
        text_out=30,
        audio_out=91,
        total_tokens=253,
    )
    failed = make_turn(conversation, "a2", "assistant", position=3, text="", status="failed", audio_end_ms=0)
    usage(failed, "0")
    priciest = make_turn(conversation, "a3", "assistant", position=4, text="🌧", started_at=at(9))
    usage(priciest, "999999.999999", total_tokens=2_147_483_647)
    make_turn(conversation, 'it"em\\2', session=2, position=0, text="No times at all.")
    make_turn(
        conversation, "placed", session=2, position=0, link_depth=1, text="Placed after its predecessor."
    )
    Turn.objects.filter(conversation=conversation, item_id="u1").update(created_at=at(2), updated_at=at(2.5))
    return conversation


def test_a_conversation_with_every_kind_of_turn_is_the_same_file(alice, bob, every_kind_of_turn):
    Conversation.objects.create(owner=alice, title="Nothing said")
    bobs = Conversation.objects.create(owner=bob, title="Bob's")
    make_turn(bobs, "u1", text="bob's secret")

    data = assert_same_file(alice)

    assert [c["title"] for c in data] == ["Nothing said", "Weather in Oslo"]
    turns = data[1]["turns"]
    assert turns[0]["text"] == AWKWARD and turns[0]["ended_at"] == "2026-11-24T10:00:03.644500Z"
    assert turns[1]["started_at"] == "2026-11-24T10:00:04.000001Z" and turns[1]["name"] == "get_weather"
    assert [turn["status"] for turn in turns[2:4]] == ["interrupted", "failed"]
    assert turns[2]["usage"]["cost"] == "0.006966" and turns[4]["usage"]["cost"] == "999999.999999"
    assert turns[0]["usage"] is None and turns[5]["started_at"] is None and turns[5]["audio_end_ms"] is None
    assert [turn["item_id"] for turn in turns[5:]] == ['it"em\\2', "placed"]


def test_no_raw_markup_reaches_the_file(alice, every_kind_of_turn):
    body = sql_file(selectors.account_conversations(user=alice))
    assert b"<" not in body and b">" not in body and b"&" not in body
    assert b"\\u003c/script\\u003e" in body


def test_an_account_of_several_conversations_in_batches_and_big_ones(alice, bob, monkeypatch):
    # Small conversations go a few to a query, big ones alone, in turns beyond one JSON batch.
    monkeypatch.setattr(selectors, "BATCH_TURNS", 3)
    for number, size in enumerate([2, 1, 4, 0, 2, 2 * exports.JSON_BATCH + 1, 1, 0, 0]):
        conversation = Conversation.objects.create(owner=alice, title=f"c{number}")
        Turn.objects.bulk_create(
            Turn(
                conversation=conversation, item_id=f"c{number}t{n}", role="user", position=n, text=f"turn {n}"
            )
            for n in range(size)
        )
    make_turn(Conversation.objects.create(owner=bob, title="Bob's"), "u1")

    data = assert_same_file(alice)

    assert [len(c["turns"]) for c in data] == [0, 0, 1, 2 * exports.JSON_BATCH + 1, 2, 0, 4, 1, 2]
    monkeypatch.setattr(selectors, "BATCH_TURNS", 10_000)  # everything in one query
    assert sql_file(selectors.account_conversations(user=alice)) == python_file(
        selectors.account_conversations(user=alice)
    )


def test_an_account_without_conversations(alice):
    assert sql_file(selectors.account_conversations(user=alice)) == b"[]"


def test_the_downloads_are_written_by_postgresql_and_read_as_pythons(alice, every_kind_of_turn, monkeypatch):
    client = Client()
    client.force_login(alice)

    def downloads() -> list[dict]:
        account = json.loads(b"".join(client.get("/api/export/").streaming_content))
        data = json.loads(b"".join(client.get("/accounts/data/").streaming_content))
        return [account["conversations"], data["conversations"]]

    assert sql_json.available()
    by_sql = downloads()
    monkeypatch.setattr(sql_json, "available", lambda: False)
    assert downloads() == by_sql


def test_in_another_time_zone_python_writes_the_times(alice, every_kind_of_turn, settings):
    settings.TIME_ZONE = "Europe/Oslo"
    assert not sql_json.available()
    client = Client()
    client.force_login(alice)
    data = json.loads(b"".join(client.get("/api/export/").streaming_content))
    assert data["conversations"][0]["turns"][0]["ended_at"] == "2026-11-24T11:00:03.644500+01:00"
