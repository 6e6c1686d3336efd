"""The GPT-Live session without WebRTC: commands and fed audio in, SDK-valid events out."""

import asyncio
import json
import time

import live_shapes
import pytest
from emulator_harness import speak, types, wait_for
from openai.lib.live import TranscriptGrouper
from openai.types.live import ServerEvent
from pydantic import TypeAdapter

from emulator.live import config
from emulator.live.session import ACKNOWLEDGEMENT, LiveSession
from emulator.speech_out import BYTES_PER_MS, Speaker

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a named place.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "City or place"}},
        "required": ["location"],
        "additionalProperties": False,
    },
    "strict": True,
}
RESPONSES = {
    "type": "responses",
    "responses": {
        "model": "gpt-5.6-luna",
        "instructions": "Call get_weather with the place the user named.",
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
    },
}
APP_SESSION = {"model": "gpt-live-1", "instructions": "Be brief.", "delegation": RESPONSES}
WEATHER_OUTPUT = json.dumps({"temperature": 14, "description": "sunny"})
TYPED = TypeAdapter(ServerEvent)


async def fake_synthesize(text: str, *, voice: str = "marin", speed: float = 1.0) -> bytes:
    """80 ms of silence per word keeps the timing realistic but the tests fast."""
    return bytes(80 * BYTES_PER_MS * len(text.split()))


class Harness:
    """A started live session whose every event is validated against the SDK as it is emitted."""

    def __init__(self, recognizer, knobs, session: dict) -> None:
        self.events: list[dict] = []
        self.closed = False
        resource = config.resolve(
            config.parse_create({"session": session, "transport": {"type": "webrtc", "sdp": "v=0"}})[0],
            session_id="live_test",
            lifetime_s=knobs.session_limit,
        )
        self.session = LiveSession(
            resource,
            emit=self._receive,
            speaker=Speaker(),
            recognizer=recognizer,
            knobs=knobs,
            synthesize=fake_synthesize,
            on_close=self._close,
        )
        self.session.start()

    def _receive(self, event: dict) -> None:
        assert not self.closed, f"event after the session ended: {event['type']}"
        live_shapes.server_event(event)
        json.dumps(event)
        self.events.append(event)

    def _close(self) -> None:
        self.closed = True

    def send(self, **event) -> None:
        live_shapes.client_event(event)
        self.session.handle(json.dumps(event))

    def say(self, text: str) -> None:
        self.session.feed_audio(speak(text, lead=0.5, tail=1.0))

    def of(self, type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == type]

    def nested(self, type: str) -> list[dict]:
        return [e["event"] for e in self.of("response.event") if e["event"]["type"] == type]

    def text(self, type: str) -> str:
        return "".join(event["delta"] for event in self.of(type))

    async def wait_nested(self, type: str, count: int = 1) -> dict:
        async with asyncio.timeout(15):
            while len(self.nested(type)) < count:
                await asyncio.sleep(0.01)
        return self.nested(type)[count - 1]

    async def wait_spoken(self, text: str) -> None:
        async with asyncio.timeout(15):
            while text not in self.text("session.output_transcript.delta"):
                await asyncio.sleep(0.01)

    def answer_calls(self, items: list[dict]) -> None:
        for item in items:
            self.send(
                type="response.item.create",
                event_id=f"out_{item['call_id']}",
                item={"type": "function_call_output", "call_id": item["call_id"], "output": WEATHER_OUTPUT},
            )
        self.send(type="response.create", event_id="continue_1")


@pytest.fixture
def make(recognizer, knobs):
    harnesses = []

    def make(session: dict = APP_SESSION) -> Harness:
        harness = Harness(recognizer, knobs, session)
        harnesses.append(harness)
        return harness

    yield make
    for harness in harnesses:
        harness.session.close()


async def test_session_started_carries_the_resolved_session(make, knobs):
    h = make({"model": "gpt-live-1.1"})

    started = h.events[0]

    assert types(h.events) == ["session.started"]
    session = started["session"]
    assert session["id"] == "live_test" and session["model"] == "gpt-live-1.1"
    assert session["status"] == "active"
    assert session["audio"] == {"output": {"voice": "marin"}}
    assert session["delegation"] == {"type": "client", "acknowledgement_delay_ms": 0}
    assert session["input"] == [] and session["store"] is False and session["instructions"]
    assert abs(session["expires_at"] - (time.time() + knobs.session_limit)) < 5


async def test_a_spoken_weather_question_is_delegated_and_answered_after_the_tool_output(make):
    h = make()

    h.say("what is the weather in paris")
    call = (await h.wait_nested("response.output_item.done"))["item"]

    heard = h.of("session.input_transcript.delta")
    assert "".join(e["delta"] for e in heard) == "what is the weather in paris"
    assert len(heard) > 1, "a sentence arrives as several fragments"
    assert all(e["start_ms"] < e["end_ms"] for e in heard)
    assert all(a["end_ms"] <= b["start_ms"] for a, b in zip(heard, heard[1:], strict=False))
    delegation = h.of("session.delegation.created")[0]
    created = h.nested("response.created")[0]
    assert delegation["delegation"]["target"] == "responses"
    assert delegation["delegation"]["response_id"] == created["response"]["id"]
    assert delegation["offset_ms"] >= heard[-1]["end_ms"]
    assert types(h.events)[len(heard) + 1 :] == [
        "session.delegation.created",
        "session.output_transcript.delta",
        "response.event",
        "response.event",
        "response.event",
    ]
    assert h.of("session.output_transcript.delta")[0]["delta"] == ACKNOWLEDGEMENT
    envelopes = h.of("response.event")
    assert {e["delegation_id"] for e in envelopes} == {delegation["delegation"]["id"]}
    assert [e["event"]["type"] for e in envelopes] == [
        "response.created",
        "response.output_item.done",
        "response.completed",
    ]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == (
        "function_call",
        "get_weather",
        {"location": "Paris"},
    )
    completed = h.nested("response.completed")[0]["response"]
    assert completed["output"] == [] and completed["usage"]["total_tokens"] > 0

    h.answer_calls([call])
    await h.wait_spoken("In Paris it is 14 degrees and sunny.")

    second = h.nested("response.created")[1]["response"]
    assert second["id"] != created["response"]["id"]
    assert h.nested("response.output_text.delta"), "the continued backend response writes text"
    assert h.nested("response.completed")[1]["response"]["usage"]["output_tokens"] > 0
    continued = [e for e in h.of("response.event") if e.get("client_event_id") == "continue_1"]
    assert [e["event"]["type"] for e in continued][0] == "response.created"
    assert not h.of("error")


async def test_two_places_without_parallel_calls_come_one_response_at_a_time(make):
    h = make()

    h.say("what is the weather in paris and berlin")
    first = (await h.wait_nested("response.output_item.done"))["item"]
    await h.wait_nested("response.completed")
    h.answer_calls([first])
    second = (await h.wait_nested("response.output_item.done", 2))["item"]
    await h.wait_nested("response.completed", 2)
    h.answer_calls([second])
    await h.wait_spoken("In Paris it is 14 degrees and sunny. In Berlin it is 14 degrees and sunny.")

    assert [json.loads(c["arguments"]) for c in (first, second)] == [
        {"location": "Paris"},
        {"location": "Berlin"},
    ]
    assert len(h.of("session.delegation.created")) == 1


async def test_parallel_calls_arrive_in_one_response(make):
    session = json.loads(json.dumps(APP_SESSION))
    session["delegation"]["responses"]["parallel_tool_calls"] = True
    h = make(session)

    h.say("what is the weather in paris and berlin")
    await h.wait_nested("response.completed")

    calls = [e["item"] for e in h.nested("response.output_item.done")]
    assert [json.loads(c["arguments"])["location"] for c in calls] == ["Paris", "Berlin"]


async def test_response_create_needs_every_pending_output_and_known_call_ids(make):
    h = make()
    h.say("what is the weather in tokyo")
    call = (await h.wait_nested("response.output_item.done"))["item"]
    await h.wait_nested("response.completed")

    h.send(type="response.create", event_id="too_early")
    h.send(
        type="response.item.create",
        event_id="wrong_call",
        item={"type": "function_call_output", "call_id": "call_unknown", "output": "{}"},
    )

    errors = {e["error"]["client_event_id"]: e["error"] for e in h.of("error")}
    assert errors["too_early"]["code"] == "missing_function_call_output"
    assert call["call_id"] in errors["too_early"]["message"]
    assert errors["wrong_call"]["param"] == "item.call_id"
    h.answer_calls([call])
    await h.wait_spoken("In Tokyo it is 14 degrees and sunny.")


async def test_a_new_question_while_a_call_waits_keeps_both_calls_answerable(make):
    h = make()
    h.say("what is the weather in paris")
    first = (await h.wait_nested("response.output_item.done"))["item"]
    await h.wait_nested("response.completed")

    h.say("what is the weather in tokyo")
    second = (await h.wait_nested("response.output_item.done", 2))["item"]
    await h.wait_nested("response.completed", 2)
    h.answer_calls([first, second])
    await h.wait_spoken("In Tokyo it is 14 degrees and sunny.")

    assert len(h.of("session.delegation.created")) == 2
    assert json.loads(second["arguments"]) == {"location": "Tokyo"}
    assert not h.of("error")


async def test_small_talk_is_answered_by_the_voice_without_delegation(make):
    h = make()

    h.say("hello")
    await h.wait_spoken("Hello! Ask me about the weather anywhere.")

    assert h.text("session.input_transcript.delta") == "hello"
    assert not h.of("session.delegation.created") and not h.of("response.event")
    spoken = h.of("session.output_transcript.delta")
    assert spoken[0]["start_ms"] >= h.of("session.input_transcript.delta")[-1]["end_ms"]


async def test_a_typed_message_goes_to_the_backend_as_a_user_item(make):
    h = make()

    h.send(
        type="response.item.create",
        event_id="typed_1",
        item={
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "weather in oslo"}],
        },
    )
    h.send(type="response.create", event_id="typed_1_go")
    call = (await h.wait_nested("response.output_item.done"))["item"]
    h.answer_calls([call])
    await h.wait_spoken("In Oslo it is 14 degrees and sunny.")
    h.send(
        type="response.item.create",
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thank you"}]},
    )
    h.send(type="response.create")
    await h.wait_spoken("You're welcome!")

    assert json.loads(call["arguments"]) == {"location": "Oslo"}
    assert {e["delegation_id"] for e in h.of("response.event")} == {None}
    assert not h.of("session.input_transcript.delta"), "typed text is not user speech"
    assert not h.of("error")


async def test_mute_acknowledges_and_the_model_hears_silence(make):
    h = make()

    h.send(type="session.input_audio.mute", event_id="mute_1")
    h.say("hello")
    await asyncio.sleep(0.3)
    h.send(type="session.input_audio.unmute", event_id="unmute_1")

    assert [(e["type"], e["client_event_id"]) for e in h.events[1:]] == [
        ("session.input_audio.muted", "mute_1"),
        ("session.input_audio.unmuted", "unmute_1"),
    ]
    h.say("hello")
    await h.wait_spoken("Hello!")


async def test_session_update_changes_backend_settings_only(make):
    h = make()

    h.send(
        type="session.update",
        event_id="upd_1",
        session={"delegation": {"type": "responses", "responses": {"tool_choice": "required"}}},
    )
    h.send(type="session.update", event_id="upd_2", session={"delegation": {"type": "client"}})
    h.send(type="session.update", event_id="upd_3", session={"instructions": "Shout."})
    h.send(type="session.update", event_id="upd_4", session={"voice": "ash"})

    updated = h.of("session.updated")[0]
    assert updated["client_event_id"] == "upd_1"
    responses = updated["session"]["delegation"]["responses"]
    assert responses["tool_choice"] == "required" and responses["model"] == "gpt-5.6-luna"
    assert responses["tools"] == [WEATHER_TOOL], "omitted settings keep their values"
    errors = {e["error"]["client_event_id"]: e["error"] for e in h.of("error")}
    assert (errors["upd_2"]["code"], errors["upd_2"]["param"]) == (
        "immutable_field_update",
        "session.delegation.type",
    )
    assert (errors["upd_3"]["code"], errors["upd_3"]["param"]) == (
        "immutable_field_update",
        "session.instructions",
    )
    assert (errors["upd_4"]["code"], errors["upd_4"]["param"]) == ("unknown_parameter", "session.voice")


async def test_bad_commands_get_errors_and_the_session_goes_on(make):
    h = make()

    h.send(type="session.start", event_id="start_1", session={"model": "gpt-live-1"})
    h.session.handle("{not json")
    h.session.handle(json.dumps({"type": "conversation.item.create", "event_id": "rt_1"}))
    h.session.handle(json.dumps({"type": "session.thinking.append", "event_id": "th_1", "content": "x"}))
    h.send(type="session.thinking.append", event_id="th_2", content="x", delegation_id="item_nope")
    h.send(type="session.input_audio.mute", event_id="still_alive")

    errors = [e["error"] for e in h.of("error")]
    assert [(e["code"], e.get("client_event_id")) for e in errors] == [
        ("unsupported_event", "start_1"),
        ("invalid_json", None),
        ("invalid_value", "rt_1"),
        ("missing_required_parameter", "th_1"),
        ("invalid_value", "th_2"),
    ]
    assert errors[3]["param"] == "delegation_id"
    assert h.of("session.input_audio.muted")[0]["client_event_id"] == "still_alive"


async def test_usage_seconds_are_cumulative_snapshots(make, knobs):
    knobs.update({"live_usage_interval": 0.2, "live_prepaid_seconds": 0})
    h = make()

    async with asyncio.timeout(15):
        while not any(e["usage"]["seconds"] >= 2 for e in h.of("session.usage.updated")):
            await asyncio.sleep(0.05)

    seconds = [e["usage"]["seconds"] for e in h.of("session.usage.updated")]
    assert seconds == sorted(seconds) and seconds[0] < seconds[-1]
    usage = h.of("session.usage.updated")[-1]["usage"]
    assert usage["active_seconds"] + usage["paused_seconds"] == usage["seconds"]


async def test_the_prepaid_fifteen_seconds_are_billed_from_the_start(make, knobs):
    knobs.update({"live_usage_interval": 0.1})
    h = make()
    await wait_for(h.events, "session.usage.updated")
    assert h.of("session.usage.updated")[0]["usage"]["seconds"] == 15


async def test_session_close_ends_with_session_closed_and_hangs_up(make):
    h = make()
    h.say("hello")
    await wait_for(h.events, "session.output_transcript.delta")

    h.send(type="session.close", event_id="close_1")

    closed = h.events[-1]
    assert closed["type"] == "session.closed"
    assert (closed["reason"], closed["client_event_id"]) == ("close_requested", "close_1")
    assert closed["session"]["id"] == "live_test" and closed["usage"]["seconds"] >= 15
    assert h.closed
    h.send(type="session.input_audio.mute")
    assert h.events[-1] is closed


async def test_the_session_expires_at_expires_at(make, knobs):
    knobs.update({"session_limit": 0.3})
    h = make()

    closed = await wait_for(h.events, "session.closed")

    assert closed["reason"] == "expired" and "client_event_id" not in closed
    assert closed["session"]["expires_at"] <= time.time() + 1
    assert h.closed


async def test_connection_lost_hangs_up_without_session_closed(make, knobs):
    knobs.update({"live_connection_lost_after": 0.2})
    h = make()

    async with asyncio.timeout(5):
        while not h.closed:
            await asyncio.sleep(0.02)

    assert not h.of("session.closed")


async def test_a_mid_session_error_does_not_end_the_session(make, knobs):
    knobs.update({"live_error_after": 0.1})
    h = make()

    error = (await wait_for(h.events, "error"))["error"]
    h.say("hello")
    await h.wait_spoken("Hello!")

    assert (error["type"], error["code"]) == ("server_error", "server_error")
    assert "client_event_id" not in error
    assert not h.closed


async def test_duplicate_deliveries_repeat_event_ids_and_the_sdk_grouper_ignores_them(make, knobs):
    knobs.update({"live_duplicate_transcripts": True})
    h = make()

    h.say("hello")
    await h.wait_spoken("Hello!")

    heard = h.of("session.input_transcript.delta")
    assert [e["event_id"] for e in heard[::2]] == [e["event_id"] for e in heard[1::2]]
    closed = []
    grouper = TranscriptGrouper(backchannel_max_duration_ms=0)
    grouper.on("segment.closed", closed.append)
    for event in h.events:
        grouper.push(TYPED.validate_python(event))
    grouper.close()
    texts = [(c.segment.speaker, c.segment.text) for c in closed]
    assert texts[0] == ("user", "hello")
    assert texts[1][0] == "assistant" and texts[1][1].startswith("Hello!")


async def test_the_timeline_restarts_after_an_answer_when_the_knob_says_so(make, knobs):
    knobs.update({"live_timeline_reset": True})
    h = make()

    h.say("hello")
    await h.wait_spoken("Hello!")
    await asyncio.sleep(0.3)
    h.say("thank you")
    await h.wait_spoken("You're welcome!")

    first_answer_end = h.of("session.output_transcript.delta")[0]["end_ms"]
    second_question = [e for e in h.of("session.input_transcript.delta") if "thank" in e["delta"]]
    assert second_question[0]["start_ms"] == 0 < first_answer_end
    reasons = []
    grouper = TranscriptGrouper(backchannel_max_duration_ms=0)
    grouper.on("segment.closed", lambda closed: reasons.append(closed.reason))
    for event in h.events:
        grouper.push(TYPED.validate_python(event))
    assert "timestamp_reset" in reasons


async def test_client_delegation_speaks_the_apps_commentary(make):
    h = make({"model": "gpt-live-1", "delegation": {"type": "client", "acknowledgement_delay_ms": 200}})

    h.say("what is the weather in sydney")
    created = await wait_for(h.events, "session.delegation.created")
    delegation_id = created["delegation"]["id"]
    h.send(
        type="session.commentary.append",
        event_id="res_1",
        delegation_id=delegation_id,
        content="Sydney is sunny and 24 degrees.",
    )
    await h.wait_spoken("Sydney is sunny and 24 degrees.")
    h.send(type="response.create", event_id="not_here")

    assert created["delegation"]["target"] == "client" and "response_id" not in created["delegation"]
    assert h.of("session.commentary.appended")[0]["client_event_id"] == "res_1"
    assert ACKNOWLEDGEMENT not in h.text("session.output_transcript.delta"), "the append cancels the ack"
    error = h.of("error")[-1]["error"]
    assert (error["code"], error["client_event_id"]) == ("responses_delegation_required", "not_here")


async def test_a_restricted_channel_gets_info_and_only_the_allowed_events(make):
    session = {
        **APP_SESSION,
        "client": {
            "data_channel": {
                "allowed_client_events": ["response.item.create", "response.create", "session.close"],
                "allowed_server_events": [
                    {"type": "session.started"},
                    {"type": "session.input_transcript.delta"},
                    {"type": "session.output_transcript.delta"},
                    {"type": "error"},
                    {"type": "response.event", "response_event": "response.output_item.done"},
                ],
            }
        },
    }
    h = make(session)

    h.send(type="session.input_audio.mute", event_id="mute_1")
    h.say("what is the weather in paris")
    call = (await h.wait_nested("response.output_item.done"))["item"]
    h.answer_calls([call])
    await h.wait_spoken("In Paris it is 14 degrees and sunny.")

    assert types(h.events)[:2] == ["info", "session.started"]
    assert h.events[0]["code"] == "data_channel_permissions"
    assert h.of("error")[0]["error"]["code"] == "client_event_not_allowed"
    assert not h.of("session.delegation.created") and not h.of("session.input_audio.muted")
    assert {e["event"]["type"] for e in h.of("response.event")} == {"response.output_item.done"}
