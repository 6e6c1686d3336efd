"""GPT-Live usage in the ledger: session-time snapshots (POST .../usage/) and backend tokens on tool turns."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.test import Client
from turn_helpers import USAGE, turn_body, turns_url

from conversations.models import Conversation, Usage

pytestmark = pytest.mark.django_db

# The delegation backend's Responses usage (ResponseUsage), as the browser sums it per delegation.
BACKEND_USAGE = {
    "input_tokens": 812,
    "input_tokens_details": {"cached_tokens": 640, "cache_write_tokens": 0},
    "output_tokens": 24,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 836,
}
# (812 - 640) * 0.20 + 640 * 0.02 + 24 * 1.20 = 76.0 USD per 1M tokens at gpt-5.6-luna prices.
BACKEND_COST = Decimal("0.000076")


@pytest.fixture
def live_conversation(alice):
    return Conversation.objects.create(
        owner=alice, upstream="live", model="gpt-live-1", voice="marin", session_count=2
    )


@pytest.fixture(autouse=True)
def _prices(settings):
    settings.LIVE_BACKEND_MODEL = "gpt-5.6-luna"
    settings.REALTIME_PRICES = {**settings.REALTIME_PRICES, "gpt-5.6-luna": {"text_in": 0.2, "text_cached": 0.02, "text_out": 1.2}}  # fmt: skip
    settings.LIVE_PRICES = {
        "gpt-live-1": {"active_per_minute": 0.05, "standby_per_minute": 0.05},
        "gpt-live-1.1": {"active_per_minute": 0.05, "standby_per_minute": 0.02},
    }


def usage_url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/usage/"


def test_the_first_snapshot_of_a_session_is_stored_with_its_cost(alice_api, live_conversation):
    response = alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 94}, format="json")
    assert response.status_code == 201
    assert response.json() == {
        "session": 1,
        "seconds": 94.0,
        "active_seconds": None,
        "paused_seconds": None,
        "model": "gpt-live-1",
        "cost": "0.078333",  # 94 / 60 * 0.05
    }
    line = Usage.objects.get(conversation=live_conversation)
    assert (line.turn, line.session, line.seconds, line.user) == (
        None,
        1,
        Decimal("94"),
        live_conversation.owner,
    )


def test_snapshots_are_cumulative_never_summed_and_an_older_one_is_ignored(alice_api, live_conversation):
    url = usage_url(live_conversation)
    alice_api.post(url, {"session": 1, "seconds": 60}, format="json")
    updated = alice_api.post(url, {"session": 1, "seconds": 75.5}, format="json")
    assert updated.status_code == 200 and updated.json()["seconds"] == 75.5
    late = alice_api.post(url, {"session": 1, "seconds": 30}, format="json")
    assert late.status_code == 200 and late.json()["seconds"] == 75.5
    assert Usage.objects.get(conversation=live_conversation).seconds == Decimal("75.5")


def test_each_session_has_its_own_line_and_the_conversation_total_adds_them(alice_api, live_conversation):
    alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 60}, format="json")
    alice_api.post(usage_url(live_conversation), {"session": 2, "seconds": 120}, format="json")
    alice_api.post(turns_url(live_conversation), turn_body("call_W1", "tool", name="get_weather", session=2, usage=BACKEND_USAGE), format="json")  # fmt: skip
    conversation = Conversation.objects.get(pk=live_conversation.pk)
    assert conversation.total_cost == Decimal("0.05") + Decimal("0.1") + BACKEND_COST
    assert conversation.total_tokens == 836
    listed = alice_api.get("/api/conversations/").json()["results"][0]
    assert Decimal(listed["cost"]) == conversation.total_cost and listed["price_known"] is True
    assert listed["upstream"] == "live"


def test_standby_seconds_are_billed_at_the_standby_price(alice_api, live_conversation):
    Conversation.objects.filter(pk=live_conversation.pk).update(model="gpt-live-1.1")
    body = {"session": 1, "seconds": 75, "active_seconds": 60, "paused_seconds": 15}
    response = alice_api.post(usage_url(live_conversation), body, format="json")
    # 60 / 60 * 0.05 + 15 / 60 * 0.02
    assert response.json()["cost"] == "0.055000"
    assert (response.json()["active_seconds"], response.json()["paused_seconds"]) == (60.0, 15.0)


def test_backend_tokens_on_a_tool_turn_are_priced_with_the_backend_model(alice_api, live_conversation):
    body = turn_body("call_W1", "tool", name="get_weather", call_id="call_W1", usage=BACKEND_USAGE)
    response = alice_api.post(turns_url(live_conversation), body, format="json")
    assert response.status_code == 201
    usage = Usage.objects.get(turn__item_id="call_W1")
    assert (usage.model, usage.text_in, usage.text_cached, usage.text_out, usage.total_tokens) == (
        "gpt-5.6-luna", 812, 640, 24, 836,
    )  # fmt: skip
    assert usage.cost == BACKEND_COST
    assert response.json()["usage"]["cost"] == str(BACKEND_COST)


def test_realtime_turn_usage_is_unchanged(alice_api, alice_conversation):
    alice_api.post(turns_url(alice_conversation), turn_body("a1", "assistant", usage=USAGE), format="json")
    assert Usage.objects.get().model == alice_conversation.model


@pytest.mark.parametrize(
    ("body", "field", "sentence"),
    [
        ({"seconds": 5}, "session", "This field is required."),
        ({"session": 0, "seconds": 5}, "session", "Ensure this value is greater than or equal to 1."),
        ({"session": 1}, "seconds", "This field is required."),
        ({"session": 1, "seconds": -1}, "seconds", "Ensure this value is greater than or equal to 0."),
        ({"session": 1, "seconds": 86_401}, "seconds", "Ensure this value is less than or equal to 86400."),
        ({"session": 1, "seconds": "a lot"}, "seconds", "A valid number is required."),
        ({"session": 1, "seconds": 5, "paused_seconds": 90_000}, "paused_seconds", "Ensure this value is less than or equal to 86400."),
        ({"session": 1, "seconds": 5, "cost": 0}, "cost", "Unknown field. Accepted fields: session, seconds, active_seconds, paused_seconds."),
    ],
    ids=["no-session", "session-0", "no-seconds", "negative", "over-a-day", "text", "paused-over-a-day", "unknown"],
)  # fmt: skip
def test_bad_snapshots_are_a_400_with_a_sentence(alice_api, live_conversation, body, field, sentence):
    response = alice_api.post(usage_url(live_conversation), body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [sentence]
    assert not Usage.objects.exists()


def test_a_session_that_was_never_started_is_refused(alice_api, live_conversation):
    response = alice_api.post(usage_url(live_conversation), {"session": 3, "seconds": 5}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "This conversation has no voice session 3."}


def test_a_realtime_conversation_reports_usage_with_its_turns(alice_api, alice_conversation):
    Conversation.objects.filter(pk=alice_conversation.pk).update(session_count=1)
    response = alice_api.post(usage_url(alice_conversation), {"session": 1, "seconds": 5}, format="json")
    assert response.status_code == 400
    assert "does not use GPT-Live" in response.json()["detail"]


def test_only_the_owner_can_report_usage(bob_api, alice_token_api, live_conversation):
    response = bob_api.post(usage_url(live_conversation), {"session": 1, "seconds": 5}, format="json")
    assert response.status_code == 404
    assert not Usage.objects.exists()
    # Like turn ingest, the owner's API token may post it.
    assert alice_token_api.post(usage_url(live_conversation), {"session": 1, "seconds": 5}, format="json").status_code == 201  # fmt: skip


def test_an_unknown_live_model_costs_nothing_and_says_so(alice_api, live_conversation):
    Conversation.objects.filter(pk=live_conversation.pk).update(model="gpt-live-9")
    response = alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 60}, format="json")
    assert response.json()["cost"] == "0.000000"
    live_conversation.refresh_from_db()
    assert live_conversation.price_known is False


def test_history_pages_exports_and_admin_show_the_cost_of_a_live_conversation(
    alice_api, alice_client, staff, live_conversation
):
    alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 120}, format="json")  # $0.1
    body = turn_body("call_W1", "tool", name="get_weather", usage=BACKEND_USAGE)
    alice_api.post(turns_url(live_conversation), body, format="json")
    assert "$0.1001" in alice_client.get("/conversations/").content.decode()
    assert "$0.1001" in alice_client.get(f"/conversations/{live_conversation.pk}/").content.decode()
    export = alice_client.get(f"/api/conversations/{live_conversation.pk}/export/?format=md")
    assert (
        "836 backend tokens plus voice time, estimated cost $0.1001"
        in b"".join(export.streaming_content).decode()
    )
    admin = Client()
    admin.force_login(staff)
    assert "0.1001" in admin.get("/admin/conversations/conversation/").content.decode()
    ledger = admin.get("/admin/conversations/usage/").content.decode()
    assert "120.000" in ledger and "0.100000" in ledger


@pytest.mark.parametrize(
    ("voice_api", "session_url"), [("realtime", "/realtime/session/"), ("live", "/live/session/")]
)
def test_the_talk_page_tells_the_script_which_upstream_to_use(alice_client, settings, voice_api, session_url):
    settings.VOICE_API = voice_api
    html = alice_client.get("/").content.decode()
    data = html.split('<script id="talk-config" type="application/json">', 1)[1].split("</script>", 1)[0]
    config = json.loads(data)
    assert (config["upstream"], config["sessionUrl"]) == (voice_api, session_url)
    assert config["conversationsUrl"] == "/api/conversations/"  # + "<id>/usage/" for GPT-Live usage


def test_the_admin_usage_totals_count_voice_time_apart_from_responses(
    admin_client, alice_api, live_conversation
):
    alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 120}, format="json")  # $0.1
    body = turn_body("call_W1", "tool", name="get_weather", usage=BACKEND_USAGE)
    alice_api.post(turns_url(live_conversation), body, format="json")
    response = admin_client.get("/admin/conversations/usage/")
    totals = response.context["totals"]
    assert (totals["responses"], totals["seconds"], totals["tokens"]) == (1, Decimal("120"), 836)
    assert [(row["responses"], row["seconds"]) for row in response.context["totals_by_user"]] == [(1, 120)]
    assert "1 response, 2 min 0 s of voice time, 836 tokens, estimated $0.1001" in response.content.decode()


def test_the_csv_export_has_a_row_for_voice_time_so_its_costs_add_up(alice_api, live_conversation):
    alice_api.post(usage_url(live_conversation), {"session": 1, "seconds": 120}, format="json")  # $0.1
    body = turn_body("call_W1", "tool", name="get_weather", usage=BACKEND_USAGE)
    alice_api.post(turns_url(live_conversation), body, format="json")
    response = alice_api.get(f"/api/conversations/{live_conversation.pk}/export/?format=csv")
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["speaker"], row["cost"]) for row in rows] == [
        ("Tool", "0.000076"),
        ("Voice time", "0.100000"),
    ]
    assert sum(Decimal(row["cost"]) for row in rows) == Decimal("0.1") + BACKEND_COST
