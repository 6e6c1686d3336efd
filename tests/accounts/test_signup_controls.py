"""Operator controls of sign-up: SIGNUP=open|invite|closed, invite codes from the admin, a
per-address rate (SIGNUP_RATE) and an optional e-mail confirmation (SIGNUP_VERIFY_EMAIL)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts.models import InviteCode

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Pass-phrase-9"


def sign_up(client, username="carol", **fields):
    body = {"username": username, "email": "", "password1": PASSWORD, "password2": PASSWORD, **fields}
    return client.post("/accounts/signup/", body)


def exists(username="carol") -> bool:
    return get_user_model().objects.filter(username=username).exists()


def test_closed_sign_up_says_so_and_creates_nothing(client, settings):
    settings.SIGNUP = "closed"
    page = client.get("/accounts/signup/")
    assert page.status_code == 200 and "Sign-up is closed" in page.content.decode()
    assert sign_up(client).status_code == 403
    assert not exists()


@pytest.mark.parametrize(("mode", "offered"), [("open", True), ("invite", True), ("closed", False)])
def test_sign_up_links_are_offered_unless_sign_up_is_closed(client, settings, mode, offered):
    settings.SIGNUP = mode
    for page in ("/", "/accounts/login/"):
        html = client.get(page, follow=True).content.decode()
        assert ('href="/accounts/signup/"' in html) is offered


def test_invite_sign_up_takes_a_code_once(client, settings):
    settings.SIGNUP = "invite"
    code = InviteCode.objects.create(note="for Carol").code
    refused = sign_up(client)
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert sign_up(client, invite_code="not-a-code").status_code == 200 and not exists()

    assert sign_up(client, invite_code=code).status_code == 302
    assert InviteCode.objects.get(code=code).used_by.username == "carol"
    again = sign_up(Client(), "dave", invite_code=code)
    assert "This invite code does not exist or was already used." in again.content.decode()
    assert not exists("dave")


def test_staff_issue_invite_codes_in_the_admin(staff, settings):
    admin = Client()
    admin.force_login(staff)
    assert admin.post("/admin/accounts/invitecode/add/", {"note": "for Erin"}).status_code == 302
    code = InviteCode.objects.get(note="for Erin").code
    assert code in admin.get("/admin/accounts/invitecode/").content.decode()


def test_one_address_creates_at_most_signup_rate_accounts(settings):
    settings.SIGNUP_RATE = "3/hour"
    statuses = [sign_up(Client(), f"user{n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    page = sign_up(Client(), "user9").content.decode()
    assert "Too many accounts were created from your network recently" in page
    assert get_user_model().objects.filter(username__startswith="user").count() == 3
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_up(other, "elsewhere").status_code == 302


def test_with_e_mail_confirmation_the_account_waits_for_the_link(client, settings):
    settings.SIGNUP_VERIFY_EMAIL = True
    assert "This field is required." in sign_up(client).content.decode()  # the e-mail address
    page = sign_up(client, email="carol@example.com")
    assert page.status_code == 200 and "Check your e-mail" in page.content.decode()
    carol = get_user_model().objects.get(username="carol")
    assert not carol.is_active
    assert client.post("/accounts/login/", {"username": "carol", "password": PASSWORD}).status_code == 200

    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    link = re.search(r"http://testserver(/accounts/signup/confirm/\S+/)", message.body).group(1)
    assert client.get(link).status_code == 200  # a button, not yet confirmed
    assert not get_user_model().objects.get(username="carol").is_active
    assert client.post(link)["Location"] == "/"
    assert get_user_model().objects.get(username="carol").is_active
    assert client.get("/").status_code == 200
    assert Client().post(link).status_code == 400  # used


def test_a_wrong_confirmation_link_is_a_clear_page(client):
    response = client.get("/accounts/signup/confirm/MQ/not-a-token/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
