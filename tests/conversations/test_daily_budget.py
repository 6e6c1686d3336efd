"""DAILY_BUDGET_USD: once today's estimated spending reaches it, no new voice session starts (on
either upstream) until tomorrow; the page gets a sentence and the admin sees why."""

from decimal import Decimal

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from turn_helpers import make_turn

from conversations import figures
from conversations.models import Conversation, DailyQuota, SessionGrant, Usage

pytestmark = pytest.mark.django_db

BASE = "https://api.openai.com/v1"
SPENT = "Voice chat has used up this site's budget for today. Please come back tomorrow."


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.OPENAI_API_KEY = "sk-budget-test"
    settings.OPENAI_BASE_URL = BASE
    settings.OPENAI_AUTH_STYLE = "openai"
    settings.DAILY_BUDGET_USD = Decimal("5.00")


@pytest.fixture
def upstream(respx_mock):
    body = {"value": "ek_budget", "expires_at": 1756310470, "session": {"type": "realtime"}}
    return respx_mock.post(f"{BASE}/realtime/client_secrets").mock(
        return_value=httpx.Response(200, json=body, headers={"x-request-id": "req_budget"})
    )


def spend(user, dollars: str, day=None):
    conversation = Conversation.objects.create(owner=user, model="gpt-realtime")
    turn = make_turn(conversation, f"a{Usage.objects.count()}", "assistant")
    Usage.objects.create(
        turn=turn,
        conversation=conversation,
        user=user,
        model="gpt-realtime",
        day=day or timezone.localdate(),
        cost=Decimal(dollars),
    )
    figures.recount([conversation.pk])


def test_below_the_budget_sessions_start(alice_api, bob, upstream):
    spend(bob, "4.99")
    spend(bob, "100.00", day=timezone.localdate() - timezone.timedelta(days=1))  # yesterday's
    assert alice_api.post("/realtime/session/", {}, format="json").status_code == 201


def test_once_spent_new_sessions_get_a_sentence_and_the_admin_sees_why(
    alice_api, alice, bob, upstream, staff
):
    spend(bob, "3.00")
    spend(alice, "2.00")

    response = alice_api.post("/realtime/session/", {}, format="json")

    assert response.status_code == 503
    assert response.json() == {"detail": SPENT}
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert not upstream.called
    assert not DailyQuota.objects.filter(user=alice, used__gt=0).exists()
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome == SessionGrant.Outcome.BUDGET_SPENT
    assert grant.detail == "Today's estimated spending $5.00 reached DAILY_BUDGET_USD ($5.00)."
    admin = Client()
    admin.force_login(staff)
    page = admin.get("/admin/conversations/sessiongrant/").content.decode()
    assert "Site&#x27;s daily budget spent" in page or "Site's daily budget spent" in page


def test_gpt_live_sessions_are_refused_too(alice_api, bob, settings, respx_mock):
    settings.VOICE_API = "live"
    route = respx_mock.post(f"{BASE}/live/sessions")
    spend(bob, "5.00")
    response = alice_api.post("/live/session/", {"sdp": "v=0\r\n"}, format="json")
    assert (response.status_code, response.json()) == (503, {"detail": SPENT})
    assert not route.called


def test_no_budget_means_no_limit(alice_api, bob, settings, upstream):
    settings.DAILY_BUDGET_USD = Decimal(0)
    spend(bob, "999999.00")
    assert alice_api.post("/realtime/session/", {}, format="json").status_code == 201
