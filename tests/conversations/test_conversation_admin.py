import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from turn_helpers import USAGE, make_turn, turn_body

from conversations import services
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_the_changelist_shows_owner_turns_and_cost(staff_client, alice_conversation):
    services.record_turns(
        conversation=alice_conversation,
        turns=[turn_body("u1", position=0), turn_body("a1", "assistant", position=1, usage=USAGE)],
    )
    page = staff_client.get("/admin/conversations/conversation/").content.decode()
    assert "Weather in Oslo" in page and "alice" in page and "0.0070" in page


def test_the_change_page_shows_the_conversations_figures(staff_client, alice_conversation):
    services.record_turns(
        conversation=alice_conversation,
        turns=[turn_body("u1", position=0), turn_body("a1", "assistant", position=1, usage=USAGE)],
    )
    page = staff_client.get(f"/admin/conversations/conversation/{alice_conversation.pk}/change/")
    assert page.status_code == 200
    assert "0.0070" in page.content.decode()  # the cost, as in the list
    assert "admin-transcript" in page.content.decode()


def test_admin_search_finds_usernames_and_turn_text(staff_client, alice, bob, alice_conversation):
    make_turn(alice_conversation, "u1", text="umbrella tomorrow?")
    Conversation.objects.create(owner=bob, title="Bob's talk")
    by_text = staff_client.get("/admin/conversations/conversation/", {"q": "umbrella"})
    assert [c.pk for c in by_text.context["cl"].result_list] == [alice_conversation.pk]
    by_user = staff_client.get("/admin/conversations/conversation/", {"q": "bob"})
    assert [c.title for c in by_user.context["cl"].result_list] == ["Bob's talk"]


def test_the_change_page_shows_turns_read_only_in_order(staff_client, alice_conversation):
    make_turn(alice_conversation, "a1", "assistant", position=1, text="second words")
    make_turn(alice_conversation, "u1", position=0, text="first words")
    page = staff_client.get(
        f"/admin/conversations/conversation/{alice_conversation.pk}/change/"
    ).content.decode()
    assert page.index("first words") < page.index("second words")
    assert 'name="turns-0-text"' not in page


def test_admin_pages_escape_user_text(staff_client, alice):
    conversation = Conversation.objects.create(owner=alice, title=XSS)
    make_turn(conversation, "u1", text=XSS)
    for url in [
        "/admin/conversations/conversation/",
        f"/admin/conversations/conversation/{conversation.pk}/change/",
    ]:
        page = staff_client.get(url).content.decode()
        assert XSS not in page


def test_the_export_action_downloads_the_selected_conversations(staff_client, alice, alice_conversation):
    make_turn(alice_conversation, "u1", text="hello")
    Conversation.objects.create(owner=alice, title="Not selected")
    response = staff_client.post(
        "/admin/conversations/conversation/",
        {"action": "export_json", "_selected_action": [str(alice_conversation.pk)]},
    )
    data = json.loads(b"".join(response.streaming_content))
    assert [c["title"] for c in data["conversations"]] == ["Weather in Oslo"]
    assert data["conversations"][0]["turns"][0]["text"] == "hello"


def test_usage_admin_totals_per_user_and_per_day(staff_client, alice, bob, alice_conversation):
    bobs = Conversation.objects.create(owner=bob, model="gpt-realtime")
    services.record_turn(conversation=alice_conversation, body=turn_body("a1", "assistant", usage=USAGE))
    services.record_turn(conversation=alice_conversation, body=turn_body("a2", "assistant", usage=USAGE))
    services.record_turn(conversation=bobs, body=turn_body("a1", "assistant", usage=USAGE))
    response = staff_client.get("/admin/conversations/usage/")
    assert response.status_code == 200
    by_user = {row["user__username"]: row for row in response.context["totals_by_user"]}
    assert (by_user["alice"]["responses"], by_user["alice"]["tokens"]) == (2, 506)
    assert by_user["bob"]["tokens"] == 253
    assert [row["tokens"] for row in response.context["totals_by_day"]] == [759]
    assert "Per user" in response.content.decode()


def test_regular_users_cannot_open_the_admin(alice_client):
    assert alice_client.get("/admin/conversations/conversation/").status_code == 302


def test_admin_search_keeps_the_filters_and_lists_a_conversation_once(
    staff_client, alice, alice_conversation
):
    for i in range(3):
        make_turn(alice_conversation, f"u{i}", position=i, text="umbrella again")
    ended = Conversation.objects.create(owner=alice, title="Ended", status=Conversation.Status.ENDED)
    make_turn(ended, "u1", text="umbrella")
    found = staff_client.get(
        "/admin/conversations/conversation/", {"q": "umbrella", "status__exact": "ended"}
    )
    assert [c.title for c in found.context["cl"].result_list] == ["Ended"]
    everything = staff_client.get("/admin/conversations/conversation/", {"q": "umbrella"})
    assert len(everything.context["cl"].result_list) == 2


@pytest.fixture
def two_per_page(monkeypatch):
    from conversations.admin import ConversationAdmin

    monkeypatch.setattr(ConversationAdmin, "list_per_page", 2)


def test_admin_search_pages_without_counting_every_match(staff_client, alice, two_per_page):
    for title in ("first", "second", "third"):
        make_turn(Conversation.objects.create(owner=alice, title=title), "u1", text="umbrella")
    with CaptureQueriesContext(connection) as queries:
        first = staff_client.get("/admin/conversations/conversation/", {"q": "umbrella"})
    # The transcript match runs once: no count of all matches, no date hierarchy's first/last date.
    assert len([q for q in queries if "umbrella" in q["sql"]]) == 1
    assert [c.title for c in first.context["cl"].result_list] == ["third", "second"]
    page = first.content.decode()
    assert "More than 2 conversations" in page and "more than 2 results" in page
    assert 'href="?p=2&amp;q=umbrella"' in page
    assert 'class="xfull"' not in page  # the date hierarchy is off while searching
    second = staff_client.get("/admin/conversations/conversation/", {"q": "umbrella", "p": 2})
    assert [c.title for c in second.context["cl"].result_list] == ["first"]
    assert "3 conversations" in second.content.decode()


def test_admin_search_has_no_unbounded_show_all(staff_client, alice, two_per_page):
    for title in ("first", "second", "third"):
        make_turn(Conversation.objects.create(owner=alice, title=title), "u1", text="umbrella")
    page = staff_client.get("/admin/conversations/conversation/", {"q": "umbrella", "all": ""})
    assert len(page.context["cl"].result_list) == 2


def test_admin_search_keeps_a_chosen_date(staff_client, alice, alice_conversation):
    make_turn(alice_conversation, "u1", text="umbrella")
    year = alice_conversation.created_at.year
    found = staff_client.get(
        "/admin/conversations/conversation/", {"q": "umbrella", "created_at__year": year}
    )
    assert [c.pk for c in found.context["cl"].result_list] == [alice_conversation.pk]
    other = staff_client.get(
        "/admin/conversations/conversation/", {"q": "umbrella", "created_at__year": year - 1}
    )
    assert list(other.context["cl"].result_list) == []
