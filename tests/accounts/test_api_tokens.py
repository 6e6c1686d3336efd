"""API tokens: stored only as hashes and shown once, named, expiring, revoked one by one and all
at once when the password changes; staff never see them."""

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def works(token: str) -> bool:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get("/api/conversations/").status_code == 200


def create(client, name="backup script", expires="90"):
    return client.post("/accounts/profile/token/", {"name": name, "expires": expires}, follow=True)


def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(alice_client, alice):
    page = create(alice_client).content.decode()
    token = page.split('<code id="new-token" class="token-value">')[1].split("<")[0]
    assert token.startswith("va_") and works(token)
    stored = ApiToken.objects.get(user=alice)
    assert token not in {stored.digest, stored.token_key} and token.startswith(stored.token_key)
    again = alice_client.get("/accounts/profile/").content.decode()
    assert token not in again and "backup script" in again


def test_tokens_have_names_and_chosen_lifetimes(alice_client, alice):
    create(alice_client, "nightly export", "30")
    create(alice_client, "laptop", "never")
    tokens = {token.name: token.expiry for token in ApiToken.objects.filter(user=alice)}
    assert tokens["laptop"] is None
    assert abs(tokens["nightly export"] - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    page = alice_client.get("/accounts/profile/").content.decode()
    assert "nightly export" in page and "laptop" in page and "never expires" in page


def test_a_token_without_a_name_is_refused_beside_the_field(alice_client, alice):
    response = alice_client.post("/accounts/profile/token/", {"name": " ", "expires": "90"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(alice):
    token = create_api_token(user=alice, name="short", lifetime=timedelta(days=1))
    assert works(token)
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert not works(token)


def test_revoking_one_token_keeps_the_others(alice_client, alice):
    kept = create_api_token(user=alice, name="kept", lifetime=None)
    revoked = create_api_token(user=alice, name="revoked", lifetime=None)
    digest = ApiToken.objects.get(name="revoked").digest
    alice_client.post("/accounts/profile/token/revoke/", {"token": digest})
    assert works(kept) and not works(revoked)


def test_changing_the_password_revokes_every_token(alice_client, alice):
    tokens = [create_api_token(user=alice, name=f"t{n}", lifetime=None) for n in range(2)]
    new = "another-horse-battery-staple-43"
    response = alice_client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert not any(works(token) for token in tokens)
    assert not ApiToken.objects.exists()


def test_resetting_the_password_revokes_every_token_too(client, alice):
    token = create_api_token(user=alice, name="leaked", lifetime=None)
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    form = client.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(alice)}/", follow=True)
    new = "another-horse-battery-staple-43"
    response = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert not works(token)


def test_bob_revoking_a_digest_of_alices_changes_nothing(bob_client, alice):
    token = create_api_token(user=alice, name="mine", lifetime=None)
    bob_client.post("/accounts/profile/token/revoke/", {"token": ApiToken.objects.get().digest})
    assert works(token)


def test_staff_see_names_and_dates_never_a_token(staff, alice):
    token = create_api_token(user=alice, name="backup script", lifetime=None)
    stored = ApiToken.objects.get()
    admin = Client()
    admin.force_login(staff)
    pages = [
        admin.get("/admin/accounts/apitoken/").content.decode(),
        admin.get(f"/admin/accounts/apitoken/{stored.pk}/change/").content.decode(),
    ]
    assert "backup script" in pages[0]
    for page in pages:
        # The digest (the primary key) may appear: a hash of 256 random bits opens nothing.
        assert token not in page and stored.token_key not in page
