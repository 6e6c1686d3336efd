from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from turn_helpers import USAGE, make_turn, turn_body

from conversations import services, views
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def test_the_list_shows_title_date_duration_turns_and_cost(alice_client, alice_conversation):
    now = timezone.now()
    Conversation.objects.filter(pk=alice_conversation.pk).update(
        started_at=now - timedelta(seconds=200), ended_at=now
    )
    services.record_turns(
        conversation=alice_conversation,
        turns=[turn_body("u1", position=0), turn_body("a1", "assistant", position=1, usage=USAGE)],
    )
    response = alice_client.get("/conversations/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Weather in Oslo" in page
    assert "3 min 20 s" in page
    assert "$0.0070" in page
    assert response.context["conversations"][0].turn_count == 2


def test_the_list_says_price_unknown_for_an_unpriced_model(alice_client, alice):
    Conversation.objects.create(owner=alice, title="Future", model="gpt-realtime-9")
    assert "price unknown" in alice_client.get("/conversations/").content.decode()


def test_the_list_searches_titles_and_transcripts(alice_client, alice, alice_conversation):
    other = Conversation.objects.create(owner=alice, title="Groceries")
    make_turn(other, "u1", text="buy oat milk")
    response = alice_client.get("/conversations/", {"q": "oat milk"})
    assert [c.title for c in response.context["conversations"]] == ["Groceries"]
    assert 'value="oat milk"' in response.content.decode()


def test_the_list_is_paginated_and_keeps_the_search(alice_client, alice):
    Conversation.objects.bulk_create([Conversation(owner=alice, title=f"Talk {i}") for i in range(25)])
    first = alice_client.get("/conversations/", {"q": "talk"})
    assert len(first.context["conversations"]) == 20
    assert "?q=talk&amp;page=2" in first.content.decode()
    assert len(alice_client.get("/conversations/", {"q": "talk", "page": 2}).context["conversations"]) == 5


def test_the_list_needs_the_same_queries_for_any_number_of_conversations(
    alice_client, alice, django_assert_max_num_queries
):
    for i in range(15):
        conversation = Conversation.objects.create(owner=alice, title=f"c{i}")
        make_turn(conversation, "u1")
    # session + user + count + page
    with django_assert_max_num_queries(4):
        alice_client.get("/conversations/")


def test_bob_does_not_see_alices_conversations(bob_client, alice_conversation):
    assert "Weather in Oslo" not in bob_client.get("/conversations/").content.decode()


def test_the_detail_shows_bubbles_in_order_with_badges_and_tool_calls(alice_client, alice_conversation):
    make_turn(alice_conversation, "a1", "assistant", position=1, text="It is cold", status="interrupted")
    make_turn(alice_conversation, "u1", position=0, text="How cold is Oslo?")
    make_turn(
        alice_conversation,
        "f1",
        "tool",
        position=2,
        text="",
        tool_name="get_weather",
        arguments='{"city":"Oslo"}',
    )
    response = alice_client.get(alice_conversation.get_absolute_url())
    page = response.content.decode()
    assert page.index("How cold is Oslo?") < page.index("It is cold")
    assert "interrupted</span>" in page
    assert "<details>" in page and "get_weather" in page
    assert f'href="/?conversation={alice_conversation.pk}"' in page
    for fmt in ("md", "txt", "json", "csv", "srt"):
        assert f"export/?format={fmt}" in page


def test_the_detail_needs_the_same_queries_for_any_number_of_turns(
    alice_client, alice_conversation, django_assert_max_num_queries
):
    for i in range(30):
        services.record_turn(
            conversation=alice_conversation, body=turn_body(f"i{i}", position=i, usage=USAGE)
        )
    # session + user + conversation + turns
    with django_assert_max_num_queries(4):
        alice_client.get(alice_conversation.get_absolute_url())


def test_user_text_is_escaped_everywhere_on_the_pages(alice_client, alice):
    conversation = Conversation.objects.create(owner=alice, title=XSS)
    make_turn(conversation, "u1", text=XSS)
    make_turn(conversation, "f1", "tool", position=1, tool_name="t", arguments=XSS, output=XSS)
    for url in [
        "/conversations/",
        conversation.get_absolute_url(),
        f"/conversations/{conversation.pk}/delete/",
    ]:
        page = alice_client.get(url).content.decode()
        assert XSS not in page
        assert "&lt;script&gt;" in page


def test_the_pages_have_no_inline_script_or_style(alice_client, alice_conversation):
    make_turn(alice_conversation, "u1")
    for url in ["/conversations/", alice_conversation.get_absolute_url()]:
        page = alice_client.get(url).content.decode()
        assert "<script" not in page
        assert "style=" not in page


def test_rename_redirects_with_a_message(alice_client, alice_conversation):
    response = alice_client.post(
        f"/conversations/{alice_conversation.pk}/rename/", {"title": "Trip to Oslo"}, follow=True
    )
    assert response.redirect_chain == [(alice_conversation.get_absolute_url(), 302)]
    assert "The conversation was renamed." in response.content.decode()
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Trip to Oslo"


def test_rename_keeps_what_a_mint_changed_while_it_was_in_flight(
    alice_client, alice_conversation, monkeypatch
):
    """A mint (or turn post) that commits between the page loading the row and saving the title is
    not undone by the rename (issue 15, defect 3)."""
    started = timezone.now() - timedelta(minutes=5)

    class RenameWhileAMintCommits(views.RenameForm):
        def clean(self):
            Conversation.objects.filter(pk=alice_conversation.pk).update(
                session_count=F("session_count") + 1,
                model="gpt-realtime-mini",
                voice="verse",
                started_at=started,
            )
            return super().clean()

    monkeypatch.setattr(views, "RenameForm", RenameWhileAMintCommits)
    response = alice_client.post(f"/conversations/{alice_conversation.pk}/rename/", {"title": "Trip to Oslo"})

    assert response.status_code == 302
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Trip to Oslo"
    assert (alice_conversation.session_count, alice_conversation.model, alice_conversation.voice) == (
        1,
        "gpt-realtime-mini",
        "verse",
    )
    assert alice_conversation.started_at == started


def test_rename_shows_the_error_beside_the_field(alice_client, alice_conversation):
    response = alice_client.post(f"/conversations/{alice_conversation.pk}/rename/", {"title": "x" * 201})
    assert response.status_code == 400
    assert "field-errors" in response.content.decode()


def test_delete_asks_first_then_deletes_on_post(alice_client, alice_conversation):
    url = f"/conversations/{alice_conversation.pk}/delete/"
    confirm = alice_client.get(url)
    assert "Delete this conversation?" in confirm.content.decode()
    assert Conversation.objects.exists()
    response = alice_client.post(url, follow=True)
    assert response.redirect_chain == [("/conversations/", 302)]
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "rename/"), ("get", "delete/"), ("post", "delete/")]
)
def test_bob_gets_404_for_alices_pages(bob_client, alice_conversation, method, suffix):
    response = getattr(bob_client, method)(
        f"{alice_conversation.get_absolute_url()}{suffix}", {"title": "mine"}
    )
    assert response.status_code == 404
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Weather in Oslo"


def test_the_pages_need_a_login(client, alice_conversation):
    response = client.get(alice_conversation.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_talk_page_still_continues_a_conversation(alice_client, alice_conversation):
    make_turn(alice_conversation, "u1")
    response = alice_client.get("/", {"conversation": alice_conversation.pk})
    assert response.status_code == 200
