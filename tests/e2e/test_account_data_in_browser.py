"""From the profile page, in a real Chromium: download all my data, then delete my account."""

import json

import pytest
from django.core.files.storage import FileSystemStorage

from conversations.models import Conversation, Turn
from privacy.models import DataExport
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-alice-e2e-12345"


@pytest.fixture
def alice(django_user_model, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; these ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    alice = django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)
    conversation = Conversation.objects.create(owner=alice, title="Weather in Oslo", model="gpt-realtime")
    Turn.objects.create(conversation=conversation, item_id="u1", role="user", text="Is it cold in Oslo?")
    return alice


@pytest.fixture(autouse=True)
def export_dir(tmp_path, monkeypatch):
    """Prepared files go to a directory of this test's own."""
    monkeypatch.setattr(DataExport._meta.get_field("file"), "storage", FileSystemStorage(tmp_path))


def test_download_my_data_then_delete_my_account_from_the_profile(live_server, alice, browser, settings):
    settings.TASKS = {"default": {"BACKEND": "core.tasks.ThreadBackend"}}
    page = browser()
    log_in(page, live_server.url, alice)
    page.goto(live_server.url + "/accounts/profile/")

    # The file is prepared in the background (a thread of the server here): progress, then a link.
    page.get_by_role("button", name="Download all my data").click()
    page.get_by_role("heading", name="Your data is ready").wait_for(timeout=60_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    assert download.value.suggested_filename.startswith("voiceapp-data-alice-")
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["account"]["username"] == "alice"
    assert data["conversations"][0]["turns"][0]["text"] == "Is it cold in Oslo?"

    page.get_by_role("link", name="Back to your profile").click()
    page.get_by_role("link", name="Delete my account").click()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    assert page.get_by_text("That is not your password.").is_visible()

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("heading", name="Your account is deleted").wait_for()
    assert page.url.endswith("/accounts/delete/done/")
    assert not type(alice).objects.filter(pk=alice.pk).exists()
    assert not Conversation.objects.exists()
