import tracemalloc
from io import StringIO

import pytest
from account_helpers import give_everything, rows_of, table_sizes, user_tables
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from conversations.models import Conversation, Turn
from privacy import services

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"  # tests/conftest.py's personas


@pytest.fixture
def two_full_accounts(alice, bob):
    give_everything(alice)
    give_everything(bob, conversations=1)
    return alice, bob


def test_the_registry_walk_finds_every_table_an_account_fills(two_full_accounts):
    alice, _ = two_full_accounts
    labels = {model._meta.label for model in user_tables()}
    expected = {
        "auth.User",
        "auth.User_groups",
        "auth.User_user_permissions",
        "admin.LogEntry",
        "accounts.ApiToken",
        "accounts.Preference",
        "conversations.Conversation",
        "conversations.Turn",
        "conversations.Usage",
        "conversations.SessionGrant",
        "conversations.DailyQuota",
    }
    assert expected <= labels
    # Alice has rows in every one of them, so the deletion tests below are not vacuous.
    assert [label for label, count in rows_of(alice).items() if count == 0 and label in expected] == []


def test_confirmation_page_says_what_will_be_deleted_and_asks_for_the_password(
    alice_client, two_full_accounts
):
    response = alice_client.get("/accounts/delete/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 conversations with 6 turns" in page
    assert "your voice preferences and API tokens;" in page  # however many there are
    assert 'type="password"' in page and 'name="password"' in page
    assert 'href="/accounts/profile/#data-heading"' in page  # a copy first, if they want one
    assert response["Cache-Control"].count("no-store") == 1


def test_a_wrong_password_deletes_nothing_and_the_form_says_so(alice_client, two_full_accounts):
    alice, _ = two_full_accounts
    before = table_sizes()
    response = alice_client.post("/accounts/delete/", {"password": "not-my-password"})
    assert response.status_code == 400
    assert "That is not your password. Your account was not deleted." in response.content.decode()
    after = table_sizes()
    assert after.pop("axes.AccessAttempt") == before.pop("axes.AccessAttempt") + 1  # counted as a failure
    assert after == before
    assert alice_client.get("/accounts/profile/").status_code == 200  # still logged in


def test_an_empty_password_is_asked_for_again(alice_client, two_full_accounts):
    before = table_sizes()
    response = alice_client.post("/accounts/delete/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert table_sizes() == before


def test_the_right_password_deletes_every_row_of_the_user_and_no_other(alice_client, two_full_accounts):
    alice, bob = two_full_accounts
    alice_rows, bob_rows, before = rows_of(alice), rows_of(bob), table_sizes()

    response = alice_client.post("/accounts/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert {label: count for label, count in rows_of(alice).items() if count} == {}
    assert rows_of(bob) == bob_rows
    # Every table shrank by exactly alice's rows: nothing of hers stays behind detached (SET_NULL).
    expected = {label: size - alice_rows.get(label, 0) for label, size in before.items()}
    assert table_sizes() == expected


def test_after_deletion_the_user_is_logged_out_and_told_it_is_done(alice_client, alice, two_full_accounts):
    key = alice.api_token
    response = alice_client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/delete/done/"
    page = response.content.decode()
    assert "Your account is deleted" in page
    assert "Log out" not in page
    assert alice_client.get("/conversations/")["Location"].startswith("/accounts/login/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/conversations/").status_code == 401
    # The done page is shown once, not to whoever opens its address later.
    assert alice_client.get("/accounts/delete/done/")["Location"] == "/accounts/login/"


def test_deleting_needs_a_login_and_a_post(alice_client):
    client = Client()
    assert client.get("/accounts/delete/")["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/delete/", {"password": PASSWORD})["Location"].startswith("/accounts/login/")
    assert alice_client.put("/accounts/delete/").status_code == 405


def test_repeated_wrong_passwords_lock_the_account_like_failed_log_ins(alice_client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        alice_client.post("/accounts/delete/", {"password": "guess"})
    response = alice_client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code in (403, 429)  # django-axes' lockout page
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_a_failure_midway_deletes_nothing(alice, two_full_accounts, monkeypatch):
    before = table_sizes()

    def fail(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(get_user_model(), "delete", fail)
    with pytest.raises(RuntimeError):
        services.delete_account(user=alice)
    assert table_sizes() == before  # the login records deleted first came back with the rollback


def test_the_admin_deletes_a_user_with_all_their_data(client, staff, two_full_accounts):
    alice, bob = two_full_accounts
    client.force_login(staff)
    alice_rows, bob_rows, before = rows_of(alice), rows_of(bob), table_sizes()
    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [alice.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert {label: count for label, count in rows_of(alice).items() if count} == {}
    assert rows_of(bob) == bob_rows
    assert not Conversation.objects.filter(owner_id=alice.pk).exists()
    after = table_sizes()
    # The admin's own action is logged (one LogEntry of the staff user); all else shrank by alice's rows.
    after["admin.LogEntry"] -= 1
    assert after == {label: size - alice_rows.get(label, 0) for label, size in before.items()}


def test_the_admin_delete_button_of_one_user_deletes_their_data_too(client, staff, two_full_accounts):
    alice, _ = two_full_accounts
    client.force_login(staff)
    response = client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert {label: count for label, count in rows_of(alice).items() if count} == {}


def account_with(django_user_model, name: str, conversations: int, turns: int):
    user = django_user_model.objects.create_user(name)
    rows = []
    for number in range(conversations):
        conversation = Conversation.objects.create(owner=user, title=f"{name} {number}")
        rows += [
            Turn(conversation=conversation, item_id=f"i{n}", role="user", position=n, text="Hello " * 30)
            for n in range(turns)
        ]
    Turn.objects.bulk_create(rows, batch_size=1000)
    return user


def peak_memory_of_deletion(user) -> int:
    tracemalloc.start()
    try:
        services.delete_account(user=user)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_deleting_a_five_times_larger_account_takes_no_more_memory(django_user_model, monkeypatch):
    monkeypatch.setattr(services, "CONVERSATIONS_PER_DELETE", 5)
    small = account_with(django_user_model, "small", conversations=20, turns=30)
    large = account_with(django_user_model, "large", conversations=100, turns=30)
    peak_memory_of_deletion(account_with(django_user_model, "warm-up", conversations=5, turns=30))

    small_peak, large_peak = peak_memory_of_deletion(small), peak_memory_of_deletion(large)

    assert not Turn.objects.exists()
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_an_operator_deletes_a_huge_account_from_the_command_line(two_full_accounts):
    alice, bob = two_full_accounts
    bob_rows = rows_of(bob)
    out = StringIO()
    call_command("delete_account", "alice", "--yes", stdout=out)
    assert out.getvalue().strip() == 'Deleted the account "alice" with all its data.'
    assert {label: count for label, count in rows_of(alice).items() if count} == {}
    assert rows_of(bob) == bob_rows


def test_the_command_names_an_unknown_account_and_deletes_nothing(two_full_accounts):
    before = table_sizes()
    with pytest.raises(CommandError, match='There is no account "carol"; nothing was deleted.'):
        call_command("delete_account", "carol", "--yes")
    assert table_sizes() == before


def test_the_command_asks_first_and_a_no_keeps_everything(two_full_accounts, monkeypatch):
    before = table_sizes()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="Nothing was deleted."):
        call_command("delete_account", "alice")
    assert table_sizes() == before


def test_the_only_administrator_cannot_leave_the_site_without_one(client, staff, django_user_model):
    client.force_login(staff)
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "You are the only administrator" in response.content.decode()
    assert django_user_model.objects.filter(pk=staff.pk).exists()

    django_user_model.objects.create_superuser("second", "second@example.com", PASSWORD)
    assert client.post("/accounts/delete/", {"password": PASSWORD}).status_code == 302
    assert not django_user_model.objects.filter(pk=staff.pk).exists()
