"""The figures stored on a conversation (turn_count, total_tokens, total_cost, last_turn_at) are
those counted from its turns and usage after every kind of write: the one-statement ingest with and
without usage (PostgreSQL), record_turn's transaction (SQLite, placed turns, retries, late
transcripts, usage posted later), GPT-Live session time, the admin's deletions, concurrent posts,
and the migration that fills them in for existing conversations."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from migration_helpers import migrate_to, migrate_to_latest
from turn_helpers import THREADS, USAGE, USAGE_COST, run_in_threads, turn_body, turns_url

from conversations import figures, services
from conversations.models import FIGURES, Conversation, Turn, Usage

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
LIVE_USAGE = {"input_tokens": 812, "output_tokens": 24, "total_tokens": 836}


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def assert_stored_as_counted(*conversations) -> Conversation:
    """The stored figures of `conversations` equal those counted from their turns and usage; the
    last one, read again, for more checks."""
    pks = [conversation.pk for conversation in conversations]
    rows = figures.counted(Conversation.objects.filter(pk__in=pks))
    for row in rows:
        assert tuple(getattr(row, name) for name in FIGURES) == tuple(
            getattr(row, f"counted_{name}") for name in FIGURES
        ), row.title
    assert len(rows) == len(pks)
    return Conversation.objects.get(pk=pks[-1])


def post(api, conversation, body, status=(200, 201)):
    response = api.post(turns_url(conversation), body, format="json")
    assert response.status_code in status, response.content
    return response


def test_every_turn_write_keeps_the_figures(alice_api, alice_conversation):
    conversation = alice_conversation
    # New positioned turns, without and with usage (PostgreSQL: the one-statement insert).
    post(alice_api, conversation, turn_body("u1", position=0, started_at=at(0), ended_at=at(3)))
    post(alice_api, conversation, turn_body("a1", "assistant", position=1, started_at=at(4), usage=USAGE))
    stored = assert_stored_as_counted(conversation)
    assert (stored.turn_count, stored.total_tokens, stored.total_cost) == (2, 253, Decimal(USAGE_COST))
    assert stored.last_turn_at == T0 + timedelta(seconds=4)
    # A retry changes nothing; a late transcript ends the turn later.
    post(alice_api, conversation, turn_body("a1", "assistant", position=1, started_at=at(4), usage=USAGE))
    post(alice_api, conversation, turn_body("a1", "assistant", position=1, ended_at=at(9), text="Sunny."))
    stored = assert_stored_as_counted(conversation)
    assert (stored.turn_count, stored.total_tokens, stored.last_turn_at) == (
        2,
        253,
        T0 + timedelta(seconds=9),
    )
    # A turn stored without times counts when it was stored; its start, posted later, is earlier:
    # the latest turn is then another one.
    post(alice_api, conversation, turn_body("u2", position=2))
    assert assert_stored_as_counted(conversation).last_turn_at > T0 + timedelta(minutes=30)
    post(alice_api, conversation, turn_body("u2", position=2, started_at=at(12), ended_at=at(14)))
    assert assert_stored_as_counted(conversation).last_turn_at == T0 + timedelta(seconds=14)
    # Usage posted for a stored turn, then a different report for it: the change is what counts.
    post(alice_api, conversation, turn_body("u2", position=2, usage=USAGE))
    post(alice_api, conversation, turn_body("u2", position=2, usage={**USAGE, "total_tokens": 300}))
    stored = assert_stored_as_counted(conversation)
    assert (stored.turn_count, stored.total_tokens, stored.total_cost) == (3, 553, 2 * Decimal(USAGE_COST))
    # Turns the server places (no position) and that move when their predecessor arrives; a batch.
    post(alice_api, conversation, turn_body("a3", "assistant", previous_item_id="u3", usage=USAGE))
    post(alice_api, conversation, turn_body("a4", "assistant", previous_item_id="a3", ended_at=at(30)))
    post(
        alice_api, conversation, [turn_body("u3", position=3, started_at=at(20)), turn_body("u4", position=9)]
    )
    stored = assert_stored_as_counted(conversation)
    assert stored.turn_count == Turn.objects.filter(conversation=conversation).count() == 7
    assert stored.total_tokens == 806


def test_the_figures_are_read_from_the_row_by_every_list(alice_api, alice_token_api, alice_client, alice):
    conversation = Conversation.objects.create(owner=alice, title="Oslo", model="gpt-realtime", started_at=T0)
    post(alice_api, conversation, turn_body("u1", position=0, text="weather in zanzibar", started_at=at(1)))
    post(alice_api, conversation, turn_body("a1", "assistant", position=1, ended_at=at(75), usage=USAGE))
    expected = (2, 253, USAGE_COST)
    for found in (
        alice_token_api.get("/api/conversations/").json()["results"][0],
        alice_token_api.get("/api/conversations/", {"search": "zanzibar"}).json()["results"][0],
    ):
        assert (found["turn_count"], found["total_tokens"], found["cost"]) == expected
    for page in (alice_client.get("/conversations/"), alice_client.get("/conversations/", {"q": "zanzibar"})):
        (row,) = page.context["conversations"]
        assert (row.turn_count, row.total_tokens, row.elapsed) == (2, 253, timedelta(seconds=75))
        assert '<td data-label="Duration">1 min 15 s</td>' in page.content.decode()


def test_gpt_live_session_time_keeps_the_figures(alice_api, alice, settings):
    settings.LIVE_PRICES = {"gpt-live-1": {"active_per_minute": 0.05, "standby_per_minute": 0.05}}
    conversation = Conversation.objects.create(
        owner=alice, upstream="live", model="gpt-live-1", session_count=2
    )
    url = f"/api/conversations/{conversation.pk}/usage/"
    assert alice_api.post(url, {"session": 1, "seconds": 60}, format="json").status_code == 201
    assert alice_api.post(url, {"session": 1, "seconds": 90}, format="json").status_code == 200
    assert (
        alice_api.post(url, {"session": 1, "seconds": 30}, format="json").status_code == 200
    )  # older: ignored
    assert alice_api.post(url, {"session": 2, "seconds": 60}, format="json").status_code == 201
    post(
        alice_api,
        conversation,
        turn_body("call_1", "tool", name="ask", session=2, position=0, usage=LIVE_USAGE),
    )
    stored = assert_stored_as_counted(conversation)
    assert stored.total_cost >= Decimal("0.125")  # 90 s and 60 s at $0.05 a minute, and the backend's tokens
    assert (stored.turn_count, stored.total_tokens) == (1, 836)


def test_deleting_usage_lines_in_the_admin_keeps_the_figures(alice_api, alice_conversation, staff):
    post(alice_api, alice_conversation, turn_body("a1", "assistant", position=0, usage=USAGE))
    post(alice_api, alice_conversation, turn_body("a2", "assistant", position=1, usage=USAGE))
    admin = Client()
    admin.force_login(staff)
    line = Usage.objects.filter(turn__item_id="a1").get()
    response = admin.post(f"/admin/conversations/usage/{line.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert assert_stored_as_counted(alice_conversation).total_tokens == 253
    rest = Usage.objects.values_list("pk", flat=True)
    admin.post(
        "/admin/conversations/usage/",
        {"action": "delete_selected", "_selected_action": list(rest), "post": "yes"},
    )
    stored = assert_stored_as_counted(alice_conversation)
    assert (stored.turn_count, stored.total_tokens, stored.total_cost) == (2, 0, Decimal(0))


def test_saving_a_stored_conversation_never_writes_its_figures_back(alice_api, alice_conversation):
    stale = Conversation.objects.get(pk=alice_conversation.pk)
    post(alice_api, alice_conversation, turn_body("a1", "assistant", position=0, usage=USAGE))
    stale.title = "Renamed"
    stale.save()
    stored = assert_stored_as_counted(alice_conversation)
    assert (stored.title, stored.turn_count, stored.total_tokens) == ("Renamed", 1, 253)


# --- Concurrent posts (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every write: no race to show."
)
def test_concurrent_posts_of_every_kind_add_up(alice, alice_conversation):
    conversation = alice_conversation
    services.record_turn(conversation=conversation, body=turn_body("late", position=99))

    def work(index):  # validated bodies, as the turn API hands them to services
        for round_ in range(4):
            bodies = [
                # New positioned turns with usage: the one-statement insert.
                turn_body(f"a{index}_{round_}", "assistant", position=index * 10 + round_, usage=USAGE),
                # The same turn from every thread (tabs, retries), each with its own usage report.
                turn_body("shared", position=500, usage={**USAGE, "total_tokens": 100 + index}),
                # A turn the server places, then its predecessor: successors move.
                turn_body(f"p{index}_{round_}", previous_item_id=f"q{index}_{round_}"),
                turn_body(f"q{index}_{round_}", position=700 + index),
                # A late transcript moving a shared turn's time earlier, then later again.
                turn_body(
                    "late",
                    position=99,
                    started_at=T0 + timedelta(seconds=index),
                    ended_at=T0 + timedelta(seconds=index + round_),
                ),  # fmt: skip
            ]
            services.ingest_turns(user=alice, conversation_id=conversation.pk, turns=bodies)

    run_in_threads(work)
    stored = assert_stored_as_counted(conversation)
    assert stored.turn_count == 2 + THREADS * 4 * 3


# --- The migration that fills the figures in ------------------------------------------------------

BEFORE = [("conversations", "0008_turn_drop_conversation_index")]
AFTER = [("conversations", "0009_conversation_stored_figures")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_the_figures_of_existing_conversations(alice):
    try:
        old = migrate_to(BEFORE)
        conversations = old.get_model("conversations", "Conversation").objects
        turns, usages = (
            old.get_model("conversations", "Turn").objects,
            old.get_model("conversations", "Usage").objects,
        )
        talk = conversations.create(owner_id=alice.pk, title="talk", model="gpt-realtime", started_at=T0)
        live = conversations.create(owner_id=alice.pk, title="time only", upstream="live", session_count=1)
        conversations.create(owner_id=alice.pk, title="empty")
        for position in range(3):
            turn = turns.create(
                conversation=talk, item_id=f"t{position}", role="assistant", position=position,
                started_at=T0 + timedelta(seconds=10 * position),
            )  # fmt: skip
            usages.create(
                turn=turn, conversation=talk, user_id=alice.pk, day=T0.date(),
                total_tokens=100 + position, cost=Decimal("0.000123"),
            )  # fmt: skip
        usages.create(
            conversation=live,
            user_id=alice.pk,
            day=T0.date(),
            session=1,
            seconds=Decimal(60),
            cost=Decimal("0.05"),
        )
        migrate_to(AFTER)
    finally:
        migrate_to_latest()
    every = Conversation.objects.filter(owner=alice)
    assert_stored_as_counted(*every)
    by_title = {conversation.title: conversation for conversation in every}
    assert (by_title["talk"].turn_count, by_title["talk"].total_tokens) == (3, 303)
    assert by_title["talk"].total_cost == Decimal("0.000369")
    assert by_title["talk"].last_turn_at == T0 + timedelta(seconds=20)
    assert (by_title["time only"].turn_count, by_title["time only"].total_cost) == (0, Decimal("0.05"))
    assert (by_title["empty"].turn_count, by_title["empty"].last_turn_at) == (0, None)
