import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_signup_creates_the_account_and_lands_on_the_talk_page(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "email": "",
            "password1": "a-long-Pass-phrase-9",
            "password2": "a-long-Pass-phrase-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert get_user_model().objects.filter(username="carol").exists()
    page = client.get("/")
    assert page.status_code == 200
    assert "carol" in page.content.decode()


def test_signup_with_mismatched_passwords_shows_the_error_beside_the_form(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "a-long-Pass-phrase-9", "password2": "another-Pass-phrase-9"},
    )
    assert response.status_code == 200
    assert "password fields didn’t match" in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_signup_rejects_a_taken_username(client, alice):
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "password1": "a-long-Pass-phrase-9", "password2": "a-long-Pass-phrase-9"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/conversations/", "/accounts/profile/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/healthz"]
)
def test_public_pages_open_without_logging_in(client, path):
    assert client.get(path).status_code == 200


def test_the_signup_page_lists_the_password_rules_but_no_api_token_sentence(alice_client):
    page = Client().get("/accounts/signup/").content.decode()
    assert "at least 8 characters" in page
    assert "API tokens" not in page  # a new account has none; the password pages still say it
    assert "revokes your API tokens" in alice_client.get("/accounts/password_change/").content.decode()
