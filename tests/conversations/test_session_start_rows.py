"""What a granted voice session start stores: the conversation (new, or its next session) and the
audit row, written by one statement on PostgreSQL (conversations/grant_insert.py) and by a
transaction elsewhere, with the same rows either way."""

import datetime as dt
import json

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, DailyQuota, SessionGrant

pytestmark = pytest.mark.django_db

BASE = "https://api.openai.com/v1"
EXPIRES_AT = 1756310470
ANSWER = "v=0\r\no=- 1 2 IN IP4 203.0.113.7\r\ns=-\r\nt=0 0\r\nm=audio 3478 UDP/TLS/RTP/SAVPF 111\r\n"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.OPENAI_API_KEY = "sk-proj-server-key"
    settings.OPENAI_BASE_URL = BASE
    settings.OPENAI_AUTH_STYLE = "openai"
    settings.REALTIME_MODEL = "gpt-realtime"
    settings.LIVE_MODEL = "gpt-live-1"


@pytest.fixture
def realtime(settings, respx_mock):
    settings.VOICE_API = "realtime"
    body = {"value": "ek_abc", "expires_at": EXPIRES_AT, "session": {"type": "realtime"}}
    respx_mock.post(f"{BASE}/realtime/client_secrets").mock(
        return_value=httpx.Response(200, json=body, headers={"x-request-id": "req_rt"})
    )
    return lambda api, **body: api.post("/realtime/session/", body, format="json")


@pytest.fixture
def live(settings, respx_mock):
    settings.VOICE_API = "live"
    body = {"session": {"id": "live_42"}, "transport": {"type": "webrtc", "sdp": ANSWER}}
    respx_mock.post(f"{BASE}/live/sessions").mock(
        return_value=httpx.Response(201, json=body, headers={"x-request-id": "req_live"})
    )
    return lambda api, **body: api.post("/live/session/", {"sdp": "v=0\r\n", **body}, format="json")


def test_a_new_conversation_and_its_audit_row(alice_api, alice, realtime):
    before = timezone.now()
    response = realtime(alice_api)
    assert response.status_code == 201
    conversation = Conversation.objects.get(owner=alice)
    assert response.json()["conversation"] == str(conversation.pk)
    assert response.json()["session"] == 1
    assert (conversation.status, conversation.upstream, conversation.session_count) == (
        "active",
        "realtime",
        1,
    )
    assert (conversation.model, conversation.voice, conversation.title) == ("gpt-realtime", "marin", "")
    assert before <= conversation.started_at <= conversation.created_at <= timezone.now()
    grant = SessionGrant.objects.get(user=alice)
    assert (grant.conversation, grant.outcome, grant.upstream_status) == (conversation, "granted", 200)
    assert (grant.model, grant.upstream_request_id, grant.detail) == ("gpt-realtime", "req_rt", "")
    assert grant.expires_at == dt.datetime.fromtimestamp(EXPIRES_AT, tz=dt.UTC)
    assert before <= grant.created_at <= timezone.now()
    assert DailyQuota.objects.get(user=alice).used == 1


def test_a_continued_conversation_counts_its_next_session_and_wakes_up(alice_api, alice, live):
    conversation = Conversation.objects.create(
        owner=alice,
        title="Oslo",
        model="gpt-realtime",
        session_count=2,
        status="ended",
        ended_at=timezone.now(),
    )
    stale = conversation.updated_at
    response = live(alice_api, conversation=str(conversation.pk))
    assert response.status_code == 201
    assert response.json()["session"] == 3
    conversation.refresh_from_db()
    assert (conversation.session_count, conversation.status, conversation.ended_at) == (3, "active", None)
    assert (conversation.upstream, conversation.model, conversation.title) == ("live", "gpt-live-1", "Oslo")
    assert conversation.updated_at > stale
    grant = SessionGrant.objects.get(user=alice)
    assert (grant.conversation, grant.outcome, grant.upstream_session_id) == (
        conversation,
        "granted",
        "live_42",
    )
    assert (grant.upstream_request_id, grant.expires_at) == ("req_live", None)


def test_sessions_started_one_after_another_count_up(alice_api, alice, realtime):
    conversation = realtime(alice_api).json()["conversation"]
    sessions = [realtime(alice_api, conversation=conversation).json()["session"] for _ in range(3)]
    assert sessions == [2, 3, 4]
    assert Conversation.objects.get(pk=conversation).session_count == 4
    assert SessionGrant.objects.filter(conversation_id=conversation, outcome="granted").count() == 4


@pytest.mark.parametrize("upstream", ["realtime", "live"])
def test_a_conversation_deleted_while_its_session_starts_is_a_404_and_the_unit_goes_back(
    alice_api, alice, request, respx_mock, upstream
):
    start = request.getfixturevalue(upstream)
    conversation = Conversation.objects.create(owner=alice, title="Oslo")
    route = next(iter(respx_mock.routes))
    answer = route.return_value

    def deleted_meanwhile(_request):  # another tab deletes it while the upstream answers
        Conversation.objects.filter(pk=conversation.pk).delete()
        return answer

    route.side_effect = deleted_meanwhile
    response = start(alice_api, conversation=str(conversation.pk))
    assert response.status_code == 404
    assert response.json()["detail"] == "This conversation does not exist. It may have been deleted."
    assert not Conversation.objects.filter(owner=alice).exists()
    assert DailyQuota.objects.get(user=alice).used == 0
    grant = SessionGrant.objects.get(user=alice)
    assert (grant.conversation, grant.outcome) == (None, "granted")
    assert "deleted while the session started" in grant.detail


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statements are PostgreSQL's")
@pytest.mark.parametrize("continued", [False, True])
def test_on_postgresql_the_quota_and_the_rows_are_one_statement_each(alice_api, alice, realtime, continued):
    body = {}
    if continued:
        body["conversation"] = str(Conversation.objects.create(owner=alice).pk)
    DailyQuota.objects.create(user=alice, day=timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        assert realtime(alice_api, **body).status_code == 201
    statements = [q["sql"] for q in queries]
    # The session and its user, the conversation when continued; the quota's UPDATE with the
    # preferences (committed before the upstream call); the history when continued; the two rows.
    assert len(statements) == (6 if continued else 4), statements
    assert statements[-3 if continued else -2].startswith("WITH taken AS (UPDATE conversations_dailyquota")
    assert statements[-1].startswith("WITH conversation AS")
    assert DailyQuota.objects.get(user=alice).used == 1


def test_the_saved_preferences_shape_the_session_read_with_the_quota(alice_api, alice, realtime, respx_mock):
    assert realtime(alice_api).status_code == 201  # no preferences saved: the defaults
    alice_api.post(
        "/accounts/profile/",
        {"voice": "cedar", "language": "nl", "instructions": "Kort."},
        format="multipart",
    )
    assert realtime(alice_api).status_code == 201
    first, second = (json.loads(call.request.content)["session"] for call in respx_mock.calls)
    assert first["audio"]["output"]["voice"] == "marin"
    assert "language" not in first["audio"]["input"]["transcription"]
    assert second["audio"]["output"]["voice"] == "cedar"
    assert second["audio"]["input"]["transcription"]["language"] == "nl"
    assert "Kort." in second["instructions"]
