"""Download all my data, prepared in the background: progress, then a link to the file."""

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from account_helpers import give_everything
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.test import Client

from privacy import services
from privacy.models import DataExport

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"  # tests/conftest.py's personas
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NEVER_RUN = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def export_dir(tmp_path, monkeypatch):
    """Files of this test's exports go to a directory of its own."""
    monkeypatch.setattr(DataExport._meta.get_field("file"), "storage", FileSystemStorage(tmp_path))
    return tmp_path


@pytest.fixture
def alice_full(alice, bob):
    give_everything(alice)
    give_everything(bob, conversations=1)
    return alice


def start(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/data/exports/")
    assert response.status_code == 302
    return DataExport.objects.get(pk=response["Location"].split("/")[-2]), response["Location"]


def without_time_of_export(data: dict) -> dict:
    data.pop("exported_at")
    data["account"].pop("last_login")
    return data


def test_the_prepared_file_is_the_accounts_data_download(
    alice_client, alice_full, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    export, page_url = start(alice_client, django_capture_on_commit_callbacks)
    page = alice_client.get(page_url).content.decode()
    assert "Your data is ready" in page
    assert f'href="/accounts/data/exports/{export.pk}/download/"' in page
    assert 'http-equiv="refresh"' not in page

    response = alice_client.get(f"/accounts/data/exports/{export.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="voiceapp-data-alice-')
    assert "no-store" in response["Cache-Control"]
    prepared = json.loads(b"".join(response.streaming_content))
    streamed = json.loads(b"".join(alice_client.get("/accounts/data/").streaming_content))
    assert without_time_of_export(prepared) == without_time_of_export(streamed)
    assert len(prepared["conversations"]) == export.conversations_total == 2


def test_while_it_is_prepared_the_page_shows_progress_and_reloads(
    alice_client, alice_full, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = NEVER_RUN
    export, page_url = start(alice_client, django_capture_on_commit_callbacks)
    page = alice_client.get(page_url).content.decode()
    assert "Preparing your data" in page and "0 of 2 conversations" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert alice_client.get(f"/accounts/data/exports/{export.pk}/download/").status_code == 404
    profile = alice_client.get("/accounts/profile/").content.decode()
    assert f'href="/accounts/data/exports/{export.pk}/"' in profile  # "see how it goes"
    again, _ = start(alice_client, django_capture_on_commit_callbacks)
    assert again == export  # one at a time


def test_the_preparation_reports_each_conversation_written(alice_full):
    seen = []
    for _ in services.export_account(user=alice_full, progress=seen.append):
        pass
    assert seen == [1, 2]


def test_nobody_else_sees_or_downloads_it(
    alice_client, bob_client, alice_full, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    export, page_url = start(alice_client, django_capture_on_commit_callbacks)
    assert bob_client.get(page_url).status_code == 404
    assert bob_client.get(f"/accounts/data/exports/{export.pk}/download/").status_code == 404
    assert Client().get(page_url).status_code == 302  # to the log-in page


def test_a_failed_preparation_says_so_and_offers_another_try(
    alice_client, alice_full, settings, export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    (export_dir / "not-a-dir").write_text("")
    monkeypatch.setattr(
        DataExport._meta.get_field("file"), "storage", FileSystemStorage(export_dir / "not-a-dir")
    )
    export, page_url = start(alice_client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == DataExport.Status.FAILED
    page = alice_client.get(page_url).content.decode()
    assert "could not be prepared" in page and 'action="/accounts/data/exports/"' in page


def test_an_expired_file_is_gone(alice_client, alice_full, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    export, page_url = start(alice_client, django_capture_on_commit_callbacks)
    DataExport.objects.filter(pk=export.pk).update(finished_at=export.finished_at - timedelta(days=8))
    assert alice_client.get(f"/accounts/data/exports/{export.pk}/download/").status_code == 404
    assert "This download has expired" in alice_client.get(page_url).content.decode()


def test_the_cleanup_job_deletes_expired_files_and_keeps_current_ones(
    alice_client, alice_full, bob, settings, export_dir, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    expired, _ = start(alice_client, django_capture_on_commit_callbacks)
    DataExport.objects.filter(pk=expired.pk).update(finished_at=expired.finished_at - timedelta(days=8))
    bob_client = Client()
    bob_client.force_login(bob)
    current, _ = start(bob_client, django_capture_on_commit_callbacks)

    out = StringIO()
    call_command("clear_data_exports", "--dry-run", stdout=out)
    assert "Would delete 1 data export(s) older than 7 days." in out.getvalue()
    assert DataExport.objects.count() == 2

    call_command("clear_data_exports", stdout=out)
    assert "Deleted 1 data export(s)" in out.getvalue()
    assert list(DataExport.objects.all()) == [current]
    assert [path.name for path in (export_dir / "data-exports").iterdir()] == [
        current.file.name.split("/")[-1]
    ]
    assert bob_client.get(f"/accounts/data/exports/{current.pk}/download/").status_code == 200


def test_a_new_file_replaces_the_old_one(
    alice_client, alice_full, settings, export_dir, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    first, _ = start(alice_client, django_capture_on_commit_callbacks)
    second, _ = start(alice_client, django_capture_on_commit_callbacks)
    assert list(DataExport.objects.all()) == [second]
    assert [path.name for path in (export_dir / "data-exports").iterdir()] == [
        second.file.name.split("/")[-1]
    ]


def test_deleting_the_account_deletes_its_files(
    alice_client, alice_full, settings, export_dir, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    start(alice_client, django_capture_on_commit_callbacks)
    assert list((export_dir / "data-exports").iterdir())
    response = alice_client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not list((export_dir / "data-exports").iterdir())


@pytest.mark.django_db(transaction=True)
def test_on_a_database_queue_the_worker_prepares_it(alice, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    give_everything(alice)
    client = Client()
    client.force_login(alice)
    assert client.post("/accounts/data/exports/").status_code == 302
    assert DataExport.objects.get().status == DataExport.Status.PREPARING  # until a worker takes it
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert DataExport.objects.get().status == DataExport.Status.READY


@pytest.mark.django_db(transaction=True)
def test_without_a_queue_it_is_prepared_on_a_thread_after_the_answer(alice, settings):
    settings.TASKS = {"default": {"BACKEND": "core.tasks.ThreadBackend"}}
    give_everything(alice)
    client = Client()
    client.force_login(alice)
    response = client.post("/accounts/data/exports/")
    assert response.status_code == 302
    export = DataExport.objects.get()
    deadline = time.monotonic() + 60
    while export.status == DataExport.Status.PREPARING and time.monotonic() < deadline:
        time.sleep(0.1)
        export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert json.loads(export.file.read())["account"]["username"] == "alice"
