"""Usage figures come from the browser: implausible ones are refused, and no stored usage row,
however large, can break a page, the API or an export."""

import copy
from decimal import Decimal

import pytest
from django.test import Client
from turn_helpers import USAGE, make_turn, turn_body, turns_url

from conversations import exports, figures
from conversations.models import USAGE_COST_MAX, Turn, Usage
from conversations.serializers import USAGE_TOKENS_MAX

pytestmark = pytest.mark.django_db


def _usage_with(path: tuple[str, ...], value) -> dict:
    usage = copy.deepcopy(USAGE)
    node = usage
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return usage


@pytest.mark.parametrize(
    "path, value",
    [
        (("output_token_details", "audio_tokens"), 10**12),
        (("output_token_details", "audio_tokens"), 10**30),
        (("output_token_details", "text_tokens"), 2**31),
        (("input_token_details", "audio_tokens"), USAGE_TOKENS_MAX + 1),
        (("input_token_details", "cached_tokens_details", "text_tokens"), 2**31),
        (("total_tokens",), 2**31),
        (("input_tokens",), 10**12),
    ],
)
def test_an_implausible_usage_figure_is_a_400_naming_it(alice_api, alice_conversation, path, value):
    body = turn_body("a1", "assistant", usage=_usage_with(path, value))
    response = alice_api.post(turns_url(alice_conversation), body)

    assert response.status_code == 400
    error = response.json()["usage"]
    for key in path:
        error = error[key]
    assert error == [f"No response uses more than {USAGE_TOKENS_MAX:,} tokens; this figure is not plausible."]
    assert not Usage.objects.exists()
    assert not Turn.objects.exists()


def test_usage_at_the_bounds_is_stored(alice_api, alice_conversation):
    usage = _usage_with(("output_token_details", "audio_tokens"), USAGE_TOKENS_MAX)
    response = alice_api.post(turns_url(alice_conversation), turn_body("a1", "assistant", usage=usage))
    assert response.status_code == 201
    assert Usage.objects.get().audio_out == USAGE_TOKENS_MAX


@pytest.fixture
def costly_conversation(alice_conversation):
    """A conversation whose responses each cost the most a usage row can hold."""
    turns = [make_turn(alice_conversation, f"a{n}", "assistant", position=n) for n in range(120)]
    Usage.objects.bulk_create(
        Usage(
            turn=turn,
            conversation=alice_conversation,
            user=alice_conversation.owner,
            model="gpt-realtime",
            day=turn.created_at.date(),
            audio_out=USAGE_TOKENS_MAX,
            total_tokens=USAGE_TOKENS_MAX,
            cost=USAGE_COST_MAX,
        )
        for turn in turns
    )
    figures.recount([alice_conversation.pk])
    return alice_conversation


def test_pages_api_and_exports_show_huge_totals(alice_client, alice_token_api, costly_conversation, staff):
    total = USAGE_COST_MAX * 120
    detail = alice_token_api.get(f"/api/conversations/{costly_conversation.pk}/")
    assert detail.status_code == 200
    assert Decimal(detail.json()["cost"]) == total
    assert alice_token_api.get("/api/conversations/").status_code == 200
    for fmt in exports.FORMATS:
        response = alice_token_api.get(f"/api/conversations/{costly_conversation.pk}/export/?format={fmt}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content)
    account = alice_token_api.get("/api/export/")
    assert b"".join(account.streaming_content).endswith(b"]}\n")
    assert alice_client.get(costly_conversation.get_absolute_url()).status_code == 200
    assert alice_client.get("/conversations/").status_code == 200

    admin = Client()
    admin.force_login(staff)
    usage_page = admin.get("/admin/conversations/usage/")
    assert usage_page.status_code == 200
    assert usage_page.context["totals"]["cost"] == total
    assert admin.get("/admin/conversations/conversation/").status_code == 200
