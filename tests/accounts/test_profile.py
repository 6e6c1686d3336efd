import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Preference

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_it_once(alice_client, alice):
    response = alice_client.post("/accounts/profile/token/", follow=True)
    key = Token.objects.get(user=alice).key
    assert key in response.content.decode()
    assert key not in alice_client.get("/accounts/profile/").content.decode()


def test_a_new_token_replaces_the_old_one(alice_client, alice, alice_token):
    alice_client.post("/accounts/profile/token/")
    assert Token.objects.filter(user=alice).count() == 1
    assert Token.objects.get(user=alice).key != alice_token


def test_a_revoked_token_stops_working_at_once(alice_client, alice_token_api):
    assert alice_token_api.get("/api/conversations/").status_code != 401
    alice_client.post("/accounts/profile/token/revoke/")
    assert alice_token_api.get("/api/conversations/").status_code == 401


def test_token_actions_need_a_post(alice_client):
    assert alice_client.get("/accounts/profile/token/").status_code == 405


def test_voice_preferences_are_saved(alice_client, alice):
    response = alice_client.post(
        "/accounts/profile/", {"voice": "cedar", "language": "nl", "instructions": "Answer in Dutch."}
    )
    assert response.status_code == 302
    preference = Preference.objects.get(user=alice)
    assert (preference.voice, preference.language, preference.instructions) == (
        "cedar",
        "nl",
        "Answer in Dutch.",
    )


def test_an_unknown_voice_is_refused_beside_the_field(alice_client, alice):
    response = alice_client.post("/accounts/profile/", {"voice": "robot", "language": "", "instructions": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Preference.objects.filter(user=alice).exists()
