import json
import re
import tracemalloc
from pathlib import Path

import pytest
from account_helpers import give_everything
from django.test import Client
from django.utils import timezone

from conversations import exports, figures, selectors
from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "account-data.md"


def download(client, **extra) -> dict:
    response = client.get("/accounts/data/", **extra)
    assert response.status_code == 200, response.content
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


@pytest.fixture
def alice_full(alice, bob):
    give_everything(alice)
    give_everything(bob, conversations=1)
    return alice


def test_the_download_is_one_json_attachment_no_cache_may_keep(alice_client, alice_full):
    response = alice_client.get("/accounts/data/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    day = timezone.localdate()
    assert (
        response["Content-Disposition"] == f'attachment; filename="voiceapp-data-alice-{day:%Y-%m-%d}.json"'
    )
    assert "no-store" in response["Cache-Control"]
    json.loads(b"".join(response.streaming_content))


def test_it_holds_the_account_preferences_sessions_and_quota(alice_client, alice_full):
    data = download(alice_client)
    assert (data["format"], data["version"]) == ("voiceapp-account-data", 1)
    assert data["account"]["username"] == "alice"
    assert data["account"]["email"] == "alice@example.com"
    assert data["preferences"] == {"voice": "cedar", "language": "nl", "instructions": "Answer in Dutch."}
    assert data["daily_quotas"] == [{"day": timezone.localdate().isoformat(), "used": 2}]
    assert len(data["sessions"]) == 2
    assert {session["outcome"] for session in data["sessions"]} == {"granted"}
    conversations = {
        str(pk) for pk in Conversation.objects.filter(owner=alice_full).values_list("pk", flat=True)
    }
    assert {line["conversation"] for line in data["session_time"]} == conversations
    assert {(line["session"], line["seconds"], line["model"]) for line in data["session_time"]} == {
        (1, 61.5, "gpt-live")
    }
    assert [token["name"] for token in data["api_tokens"]] == ["backup script"]
    assert data["api_tokens"][0]["created"] and data["api_tokens"][0]["expires_at"] is None


def test_it_holds_every_conversation_as_the_api_shows_it(alice_client, alice_full):
    data = download(alice_client)
    conversations = Conversation.objects.filter(owner=alice_full).order_by("-created_at", "-pk")
    expected = [alice_client.get(f"/api/conversations/{c.pk}/").json() for c in conversations]
    assert data["conversations"] == expected
    turns = [turn for conversation in data["conversations"] for turn in conversation["turns"]]
    assert len(turns) == 6
    assert sum(1 for turn in turns if turn["usage"]) == 2
    assert {turn["name"] for turn in turns if turn["role"] == "tool"} == {"get_weather"}


def test_it_never_holds_another_users_data_or_any_secret(alice_client, alice_full, bob):
    body = b"".join(alice_client.get("/accounts/data/").streaming_content).decode()
    assert "bob" not in body
    assert alice_full.api_token not in body
    assert not [token.digest for token in alice_full.auth_token_set.all() if token.digest in body]
    assert "password" not in body and alice_full.password not in body


def documented_fields() -> dict[str, set[str]]:
    """Field names of each table in the schema document, by path ("" for the top level)."""
    schema = SCHEMA_DOC.read_text(encoding="utf-8").split("## Schema", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### `([^`]+)`$", schema, flags=re.MULTILINE)
    sections = {"": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}
    return {path: set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE)) for path, text in sections.items()}


def objects_at(data: dict, path: str) -> list[dict]:
    """Every object found at a documented path such as "conversations[].turns[].usage"."""
    found = [data]
    for step in filter(None, path.split(".")):
        name = step.removesuffix("[]")
        values = [item[name] for item in found]
        found = [v for value in values for v in (value if step.endswith("[]") else [value]) if v is not None]
    return found


def test_the_schema_document_describes_every_field_of_the_file(alice_client, alice_full):
    data = download(alice_client)
    documented = documented_fields()
    assert len(documented) == 10
    for path, fields in documented.items():
        objects = objects_at(data, path)
        assert objects, f"nothing at {path!r} to compare with"
        assert {key for item in objects for key in item} == fields, path


def test_an_api_token_holder_gets_the_same_file(alice_client, alice_full):
    token = alice_full.api_token
    by_token = download(Client(), HTTP_AUTHORIZATION=f"Token {token}")
    by_session = download(alice_client)
    assert by_token.pop("exported_at") and by_session.pop("exported_at")
    assert by_token == by_session


def test_without_credentials_the_answer_is_401_in_json(client):
    response = client.get("/accounts/data/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_new_account_downloads_an_empty_but_complete_file(alice_client):
    data = download(alice_client)
    assert data["preferences"] == {"voice": "", "language": "", "instructions": ""}
    assert data["api_tokens"] == []
    assert (data["daily_quotas"], data["sessions"], data["session_time"], data["conversations"]) == (
        [],
        [],
        [],
        [],
    )


def test_the_profile_page_offers_the_download_and_the_deletion(alice_client):
    page = alice_client.get("/accounts/profile/").content.decode()
    # The download is prepared in the background (test_data_export.py); GET /accounts/data/ is for scripts.
    assert 'action="/accounts/data/exports/"' in page and "Download all my data" in page
    assert 'href="/accounts/delete/"' in page and "Delete my account" in page


# --- Flat memory ---------------------------------------------------------------------------------


def fill(user, *, big_turns: int, small_conversations: int) -> None:
    """One long conversation and many short ones, with texts of a realistic length."""
    text = "It is four degrees and overcast in Oslo, with a light breeze from the north. " * 3
    conversations = [
        Conversation.objects.create(owner=user, title=f"Chat {n}", model="gpt-realtime")
        for n in range(small_conversations + 1)
    ]
    turns = [
        Turn(conversation=conversations[0], item_id=f"big_{n}", role="assistant", position=n, text=text)
        for n in range(big_turns)
    ]
    for conversation in conversations[1:]:
        turns += [
            Turn(conversation=conversation, item_id=f"small_{n}", role="user", position=n, text=text)
            for n in range(10)
        ]
    Turn.objects.bulk_create(turns, batch_size=1000)
    figures.recount([conversation.pk for conversation in conversations])  # as the write paths keep them


def peak_memory_of_download(client) -> tuple[int, int]:
    """Peak Python allocations while the download streams, and its size in bytes."""
    tracemalloc.start()
    try:
        response = client.get("/accounts/data/")
        size = sum(len(chunk) for chunk in response.streaming_content)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_when_the_account_grows_fivefold(django_user_model, monkeypatch):
    # Smaller reads and batches than in production, so that a few thousand rows span many of them.
    monkeypatch.setattr(selectors, "FETCH_ROWS", 100)
    monkeypatch.setattr(selectors, "BATCH_TURNS", 200)
    monkeypatch.setattr(exports, "JSON_BATCH", 20)
    small_user = django_user_model.objects.create_user("small")
    large_user = django_user_model.objects.create_user("large")
    # Small conversations are read a batch at a time (BATCH_TURNS): both accounts fill whole batches.
    fill(small_user, big_turns=300, small_conversations=20)
    fill(large_user, big_turns=1_500, small_conversations=100)
    small, large = Client(), Client()
    small.force_login(small_user)
    large.force_login(large_user)

    warm_up = Client()
    warm_up.force_login(django_user_model.objects.create_user("tiny"))
    peak_memory_of_download(warm_up)  # first-use caches (URL resolver, serializers) are not the export
    small_peak, small_size = peak_memory_of_download(small)
    large_peak, large_size = peak_memory_of_download(large)

    assert large_size > 4.5 * small_size  # five times the data...
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)  # ...not five times the memory


def test_staff_download_one_users_data_from_the_admin(client, staff, alice_full, bob):
    client.force_login(staff)
    response = client.post(
        "/admin/auth/user/", {"action": "download_data", "_selected_action": [alice_full.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="voiceapp-data-alice-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(b"".join(response.streaming_content))
    assert data["account"]["username"] == "alice"
    assert len(data["conversations"]) == 2


def test_the_admin_download_takes_one_user_at_a_time(client, staff, alice_full, bob):
    client.force_login(staff)
    response = client.post(
        "/admin/auth/user/",
        {"action": "download_data", "_selected_action": [alice_full.pk, bob.pk]},
        follow=True,
    )
    assert "Select exactly one user to download their data." in response.content.decode()
