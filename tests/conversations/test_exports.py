import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from turn_helpers import USAGE, make_turn, turn_body

from conversations import exports, selectors, services, views
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def export_url(conversation, fmt):
    return f"/api/conversations/{conversation.pk}/export/?format={fmt}"


def download(api, url):
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content).decode()


@pytest.fixture
def transcript(alice_conversation):
    alice_conversation.started_at = START
    alice_conversation.save()
    at = lambda s: START + timedelta(seconds=s)  # noqa: E731
    make_turn(
        alice_conversation,
        "u1",
        position=0,
        text="What's the weather in Oslo?",
        started_at=at(1),
        ended_at=at(3),
    )
    make_turn(
        alice_conversation,
        "f1",
        "tool",
        position=1,
        text="",
        tool_name="get_weather",
        arguments='{"city":"Oslo"}',
        output='{"temperature":3}',
        started_at=at(4),
    )
    make_turn(
        alice_conversation,
        "a1",
        "assistant",
        position=2,
        text="It is 3 degrees and",
        status="interrupted",
        started_at=at(5),
        audio_end_ms=1500,
    )
    make_turn(
        alice_conversation, "u2", position=3, text='=HYPERLINK("http://evil") <script>alert(1)</script>'
    )
    return alice_conversation


def test_every_format_is_an_attachment_named_after_the_title(alice_api, transcript):
    for fmt, (content_type, _) in exports.FORMATS.items():
        response, _ = download(alice_api, export_url(transcript, fmt))
        assert response["Content-Type"] == content_type
        assert (
            response["Content-Disposition"]
            == f'attachment; filename="voiceapp-weather-in-oslo-2026-11-24.{fmt}"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.streaming


def test_the_history_page_offers_every_format(alice_api):
    assert {fmt for fmt, _ in views.EXPORT_FORMATS} == set(exports.FORMATS)


def test_json_has_the_metadata_and_ordered_turns(alice_token_api, transcript):
    _, body = download(alice_token_api, export_url(transcript, "json"))
    data = json.loads(body)
    assert data["title"] == "Weather in Oslo"
    assert [t["item_id"] for t in data["turns"]] == ["u1", "f1", "a1", "u2"]
    assert data["turns"][1]["name"] == "get_weather"
    assert "<script>" not in body  # escaped as \u003c, still the same JSON string
    assert data["turns"][3]["text"].endswith("<script>alert(1)</script>")


def test_markdown_reads_like_a_transcript(alice_api, transcript):
    _, body = download(alice_api, export_url(transcript, "md"))
    assert body.startswith("# Weather in Oslo\n")
    assert "**You** · 10:00:01\n\nWhat's the weather in Oslo?" in body
    assert "**Assistant** · 10:00:05 · *interrupted*" in body
    assert "get\\_weather" in body
    assert "<script>" not in body and "\\<script\\>" in body


def test_text_reads_like_a_transcript(alice_api, transcript):
    _, body = download(alice_api, export_url(transcript, "txt"))
    lines = body.splitlines()
    assert lines[0] == "Weather in Oslo"
    assert "[10:00:01] You: What's the weather in Oslo?" in lines
    assert '[10:00:04] Tool: get_weather({"city":"Oslo"}) -> {"temperature":3}' in lines
    assert "[10:00:05] Assistant (interrupted): It is 3 degrees and" in lines


def test_csv_neutralises_formulas(alice_api, transcript):
    _, body = download(alice_api, export_url(transcript, "csv"))
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert [r["speaker"] for r in rows] == ["You", "Tool", "Assistant", "You"]
    assert rows[3]["text"].startswith("'=HYPERLINK")
    assert rows[1]["tool"] == "get_weather"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_starting_like_a_formula_get_a_quote(prefix):
    assert exports._cell(prefix + "1+1") == "'" + prefix + "1+1"
    assert exports._cell("fine") == "fine"


def test_srt_times_are_relative_to_the_conversation_start(alice_api, transcript):
    _, body = download(alice_api, export_url(transcript, "srt"))
    cues = body.strip().split("\n\n")
    assert cues[0] == "1\n00:00:01,000 --> 00:00:03,000\nYou: What's the weather in Oslo?"
    # no end time: the played audio (audio_end_ms) gives the length
    assert cues[1] == "2\n00:00:05,000 --> 00:00:06,500\nAssistant: It is 3 degrees and"
    assert len(cues) == 3  # the tool call is not a subtitle


def test_exports_show_times_in_the_sites_time_zone(alice_token_api, transcript, settings):
    settings.TIME_ZONE = "Europe/Oslo"  # UTC+1 in November
    services.record_turns(conversation=transcript, turns=[{"item_id": "a1", "usage": USAGE}])
    _, text = download(alice_token_api, export_url(transcript, "txt"))
    assert "[11:00:01] You: What's the weather in Oslo?" in text.splitlines()
    _, body = download(alice_token_api, export_url(transcript, "csv"))
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0]["time"] == "2026-11-24T11:00:01+01:00"
    _, body = download(alice_token_api, export_url(transcript, "json"))
    turns = json.loads(body)["turns"]
    assert turns == alice_token_api.get(f"/api/conversations/{transcript.pk}/").json()["turns"]
    assert turns[0]["started_at"] == "2026-11-24T11:00:01+01:00"


def test_an_unknown_format_is_a_400_listing_the_formats(alice_api, alice_conversation):
    response = alice_api.get(export_url(alice_conversation, "pdf"))
    assert response.status_code == 400
    assert response.json() == {"detail": 'Unknown export format "pdf". Use one of: json, md, txt, csv, srt.'}


def test_an_untitled_conversation_gets_a_generic_filename(alice_api, alice):
    conversation = Conversation.objects.create(owner=alice)
    response, _ = download(alice_api, export_url(conversation, "md"))
    assert 'filename="voiceapp-conversation-' in response["Content-Disposition"]


@pytest.mark.parametrize("size", [2, 40])
def test_an_export_needs_the_same_queries_for_any_number_of_turns(
    alice_token_api, alice_conversation, django_assert_max_num_queries, size
):
    for i in range(size):
        services.record_turn(
            conversation=alice_conversation, body=turn_body(f"i{i}", "assistant", position=i, usage=USAGE)
        )
    for fmt in exports.FORMATS:
        # token lookup + conversation with totals + turns with usage
        with django_assert_max_num_queries(3):
            _, body = download(alice_token_api, export_url(alice_conversation, fmt))
        assert body.count(f"text of i{size - 1}") == 1


def test_the_account_export_has_every_conversation_and_turn(alice_token_api, alice, bob, alice_conversation):
    make_turn(alice_conversation, "u1", position=0)
    make_turn(alice_conversation, "a1", "assistant", position=1)
    Conversation.objects.create(owner=alice, title="Empty")
    later = Conversation.objects.create(owner=alice, title="Later")
    make_turn(later, "u1", position=0, text="later words")
    bobs = Conversation.objects.create(owner=bob, title="Bob's")
    make_turn(bobs, "u1", text="bob's secret")
    response, body = download(alice_token_api, "/api/export/?format=json")
    data = json.loads(body)
    assert data["user"] == "alice"
    assert [c["title"] for c in data["conversations"]] == ["Later", "Empty", "Weather in Oslo"]
    assert [[t["item_id"] for t in c["turns"]] for c in data["conversations"]] == [["u1"], [], ["u1", "a1"]]
    assert "bob's secret" not in body
    assert response["Content-Disposition"].startswith('attachment; filename="voiceapp-alice-')


def test_the_account_export_only_speaks_json(alice_api):
    assert alice_api.get("/api/export/?format=csv").status_code == 400


@pytest.mark.parametrize("size", [1, 15])
def test_the_account_export_needs_the_same_queries_for_any_number_of_conversations(
    alice_token_api, alice, django_assert_max_num_queries, size
):
    for c in range(size):
        conversation = Conversation.objects.create(owner=alice, title=f"c{c}")
        make_turn(conversation, "u1", position=0)
        make_turn(conversation, "a1", "assistant", position=1)
    # token lookup + conversations + turns
    with django_assert_max_num_queries(3):
        _, body = download(alice_token_api, "/api/export/")
    assert len(json.loads(body)["conversations"]) == size


def test_json_export_turns_read_exactly_like_the_api(alice_token_api, transcript):
    services.record_turns(
        conversation=transcript, turns=[{"item_id": "a1", "usage": USAGE}]
    )  # one turn with usage, to compare the nested object too
    _, body = download(alice_token_api, export_url(transcript, "json"))
    api_turns = alice_token_api.get(f"/api/conversations/{transcript.pk}/").json()["turns"]
    assert json.loads(body)["turns"] == api_turns
    assert any(turn["usage"] for turn in api_turns)


def test_a_long_conversation_streams_in_batches_of_turns(alice_token_api, alice_conversation):
    count = exports.JSON_BATCH * 2 + 1
    for position in range(count):
        make_turn(alice_conversation, f"item_{position}", position=position, text=f"turn {position}")
    response = alice_token_api.get(export_url(alice_conversation, "json"))
    chunks = [chunk.decode() for chunk in response.streaming_content]
    assert len(chunks) == 5  # header, three batches of turns, closing
    turns = json.loads("".join(chunks))["turns"]
    assert [turn["item_id"] for turn in turns] == [f"item_{n}" for n in range(count)]


def test_the_account_export_reads_turns_in_batches_in_order(alice, monkeypatch):
    # Small conversations are read a few at a time, a big one alone: the file is the same either way.
    monkeypatch.setattr(selectors, "BATCH_TURNS", 3)  # many batches, and conversations too big for one
    for c, size in enumerate([2, 1, 4, 0, 2, 5, 1]):
        conversation = Conversation.objects.create(owner=alice, title=f"c{c}")
        for position in range(size):
            make_turn(conversation, f"c{c}t{position}", position=position, text=f"turn {position} of c{c}")
    client = Client()
    client.force_login(alice)

    def conversations():
        response = client.get("/api/export/")
        return json.loads(b"".join(response.streaming_content))["conversations"]

    batched = conversations()
    monkeypatch.setattr(selectors, "BATCH_TURNS", 1000)
    assert batched == conversations()  # all in one query
    assert [c["title"] for c in batched] == [f"c{c}" for c in reversed(range(7))]
    assert [[t["item_id"] for t in c["turns"]] for c in batched][1] == [f"c5t{n}" for n in range(5)]
