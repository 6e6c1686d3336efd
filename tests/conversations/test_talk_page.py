import json
import re

import pytest
from turn_helpers import make_turn

pytestmark = pytest.mark.django_db


def talk_config(response) -> dict:
    match = re.search(
        r'<script id="talk-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match, "the talk page carries its configuration as json_script"
    return json.loads(match.group(1))


def test_continuing_shows_earlier_tool_turns_with_their_tool_name(alice_client, alice_conversation):
    make_turn(alice_conversation, "u1", position=0, text="What's the weather in Oslo?")
    make_turn(
        alice_conversation,
        "f1",
        "tool",
        position=1,
        text="",
        tool_name="get_weather",
        call_id="call_1",
        arguments='{"location": "Oslo"}',
        output='{"temperature": 4}',
    )
    make_turn(alice_conversation, "a1", "assistant", position=2, text="It is 4 degrees in Oslo.")

    config = talk_config(alice_client.get("/", {"conversation": alice_conversation.pk}))

    assert config["conversation"] == str(alice_conversation.pk)
    assert [turn["item_id"] for turn in config["turns"]] == ["u1", "f1", "a1"]
    tool = config["turns"][1]
    assert tool["role"] == "tool"
    assert tool["name"] == "get_weather"


def test_a_new_conversation_starts_with_no_turns(alice_client):
    config = talk_config(alice_client.get("/"))
    assert config["conversation"] is None
    assert config["turns"] == []


def test_bob_cannot_continue_alices_conversation(bob_client, alice_conversation):
    assert bob_client.get("/", {"conversation": alice_conversation.pk}).status_code == 404
