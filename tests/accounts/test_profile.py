import pytest

from accounts.models import Preference

pytestmark = pytest.mark.django_db


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
