from datetime import UTC, datetime

import pytest
from turn_helpers import USAGE, make_turn, turn_body

from conversations import services
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

LIST_URL = "/api/conversations/"


def detail_url(conversation):
    return f"/api/conversations/{conversation.pk}/"


def test_the_list_shows_only_my_conversations_newest_first(alice_api, alice, bob):
    older = Conversation.objects.create(owner=alice, title="older")
    newer = Conversation.objects.create(owner=alice, title="newer")
    Conversation.objects.create(owner=bob, title="bob's")
    response = alice_api.get(LIST_URL)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(newer.pk), str(older.pk)]


def test_the_list_is_paginated(alice_api, alice):
    Conversation.objects.bulk_create([Conversation(owner=alice) for _ in range(25)])
    response = alice_api.get(LIST_URL)
    assert response.json()["count"] == 25
    assert len(response.json()["results"]) == 20
    assert response.json()["next"]


def test_the_list_carries_counts_tokens_and_cost(alice_api, alice_conversation):
    services.record_turns(
        conversation=alice_conversation,
        turns=[turn_body("u1", position=0), turn_body("a1", "assistant", position=1, usage=USAGE)],
    )
    (row,) = alice_api.get(LIST_URL).json()["results"]
    assert (row["turn_count"], row["total_tokens"], row["cost"], row["price_known"]) == (
        2,
        253,
        "0.006966",
        True,
    )


def test_search_finds_titles_and_turn_text(alice_api, alice, alice_conversation):
    other = Conversation.objects.create(owner=alice, title="Shopping")
    make_turn(other, "u1", text="Remind me to buy MILK")
    Conversation.objects.create(owner=alice, title="Nothing here")
    found = lambda q: {c["title"] for c in alice_api.get(LIST_URL, {"search": q}).json()["results"]}  # noqa: E731
    assert found("oslo") == {"Weather in Oslo"}
    assert found("milk") == {"Shopping"}


def test_search_never_finds_other_peoples_conversations(bob_api, alice_conversation):
    make_turn(alice_conversation, "u1", text="secret plans")
    assert bob_api.get(LIST_URL, {"search": "secret"}).json()["results"] == []


def test_a_search_pages_without_counting_every_match(alice_api, alice):
    for i in range(25):
        make_turn(Conversation.objects.create(owner=alice, title=f"Talk {i}"), "u1", text="oat milk")
    first = alice_api.get(LIST_URL, {"search": "milk"}).json()
    assert (first["count"], len(first["results"])) == (None, 20)
    second = alice_api.get(first["next"]).json()
    assert (len(second["results"]), second["next"]) == (5, None)
    assert alice_api.get(LIST_URL, {"search": "milk", "page": "x"}).status_code == 404


def test_date_filters_narrow_the_list(alice_api, alice):
    old = Conversation.objects.create(owner=alice, title="old")
    Conversation.objects.filter(pk=old.pk).update(created_at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    Conversation.objects.create(owner=alice, title="new")
    titles = lambda **q: [c["title"] for c in alice_api.get(LIST_URL, q).json()["results"]]  # noqa: E731
    assert titles(created_before="2026-01-10") == ["old"]
    assert titles(created_after="2026-01-11") == ["new"]
    assert alice_api.get(LIST_URL, {"created_after": "not-a-date"}).status_code == 400


def test_the_detail_has_metadata_and_ordered_turns(alice_api, alice_conversation):
    make_turn(alice_conversation, "a1", "assistant", position=1, previous_item_id="u1")
    make_turn(alice_conversation, "u1", position=0)
    data = alice_api.get(detail_url(alice_conversation)).json()
    assert data["title"] == "Weather in Oslo"
    assert [t["item_id"] for t in data["turns"]] == ["u1", "a1"]


def test_a_token_reads_the_detail_like_curl_would(alice_token_api, alice_conversation):
    assert alice_token_api.get(detail_url(alice_conversation)).status_code == 200


def test_patch_renames(alice_api, alice_conversation):
    response = alice_api.patch(detail_url(alice_conversation), {"title": "Oslo trip"})
    assert response.status_code == 200
    assert response.json()["title"] == "Oslo trip"
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Oslo trip"


def test_patch_ends_the_conversation_once(alice_api, alice_conversation):
    first = alice_api.patch(detail_url(alice_conversation), {"status": "ended"}).json()
    second = alice_api.patch(detail_url(alice_conversation), {"status": "ended"}).json()
    assert first["status"] == second["status"] == "ended"
    assert first["ended_at"] == second["ended_at"] is not None


@pytest.mark.parametrize(
    "body",
    [{"model": "gpt-realtime-2"}, {"status": "active"}, {"title": "x" * 201}, {}, {"owner": 2}],
    ids=["read-only-field", "status-active", "title-too-long", "empty", "owner"],
)
def test_patch_refuses_anything_else(alice_api, alice_conversation, body):
    response = alice_api.patch(detail_url(alice_conversation), body)
    assert response.status_code == 400
    alice_conversation.refresh_from_db()
    assert (alice_conversation.model, alice_conversation.status) == ("gpt-realtime", "active")


def test_delete_removes_the_conversation_and_its_turns(alice_api, alice_conversation):
    make_turn(alice_conversation, "u1")
    assert alice_api.delete(detail_url(alice_conversation)).status_code == 204
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"title": "mine now"}),
        ("delete", "", None),
        ("post", "turns/", turn_body("u1")),
        ("get", "export/?format=json", None),
        ("get", "export/?format=md", None),
    ],
)
def test_bob_gets_404_for_every_endpoint_of_alices_conversation(
    bob_api, alice_conversation, method, suffix, body
):
    response = getattr(bob_api, method)(detail_url(alice_conversation) + suffix, body)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Weather in Oslo"
    assert not alice_conversation.turns.exists()


def test_an_unknown_id_is_a_json_404(alice_api):
    response = alice_api.get("/api/conversations/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("url", [LIST_URL, "/api/export/", "/api/schema/"])
def test_anonymous_requests_are_refused(client, url):
    assert client.get(url).status_code in (401, 403)


def _fill(alice, conversations, turns):
    for c in range(conversations):
        conversation = Conversation.objects.create(owner=alice, title=f"c{c}", model="gpt-realtime")
        for t in range(turns):
            services.record_turn(
                conversation=conversation,
                body=turn_body(
                    f"i{t}", "assistant" if t % 2 else "user", position=t, usage=USAGE if t % 2 else None
                ),
            )


@pytest.mark.parametrize("size", [1, 12])
def test_the_list_needs_the_same_queries_for_any_number_of_conversations(
    alice_token_api, alice, django_assert_max_num_queries, size
):
    _fill(alice, size, 3)
    # token lookup + count + page
    with django_assert_max_num_queries(3):
        assert alice_token_api.get(LIST_URL).status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_the_detail_needs_the_same_queries_for_any_number_of_turns(
    alice_token_api, alice, django_assert_max_num_queries, size
):
    _fill(alice, 1, size)
    conversation = Conversation.objects.get()
    # token lookup + conversation + turns with usage
    with django_assert_max_num_queries(3):
        assert len(alice_token_api.get(detail_url(conversation)).json()["turns"]) == size


def test_the_schema_documents_the_endpoints(alice_api):
    response = alice_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/conversations/",
        "/api/conversations/{id}/",
        "/api/conversations/{id}/turns/",
        "/api/conversations/{id}/export/",
        "/api/export/",
    ]:
        assert path in paths


def test_the_docs_page_is_for_logged_in_users(alice_client, client):
    assert alice_client.get("/api/docs/").status_code == 200
