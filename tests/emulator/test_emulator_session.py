"""The session state machine without WebRTC: client events and fed audio in, SDK-valid events out."""

import asyncio
import json

import emulator_shapes
import pytest
from emulator_harness import SESSION, speak, types, wait_for

from emulator import session_config
from emulator.session import Session
from emulator.speech_out import BYTES_PER_MS, Speaker

WEATHER = "what is the weather in paris and berlin"


async def fake_synthesize(text: str, *, voice: str = "alloy", speed: float = 1.0) -> bytes:
    """80 ms of silence per word keeps the timing realistic but the tests fast."""
    return bytes(80 * BYTES_PER_MS * len(text.split()))


class Harness:
    """A started session whose every event is validated against the SDK as it is emitted."""

    def __init__(self, recognizer, knobs, config: dict) -> None:
        self.events: list[dict] = []
        self.closed = False
        self.session = Session(
            session_config.effective(config),
            emit=self._receive,
            speaker=Speaker(),
            recognizer=recognizer,
            knobs=knobs,
            synthesize=fake_synthesize,
            on_close=self._close,
        )
        self.session.start()

    def _receive(self, event: dict) -> None:
        emulator_shapes.server_event(event)
        json.dumps(event)
        self.events.append(event)

    def _close(self) -> None:
        self.closed = True

    def send(self, **event) -> None:
        self.session.handle(json.dumps(event))

    def say(self, text: str) -> None:
        self.session.feed_audio(speak(text, lead=0.5, tail=1.0))

    def of(self, type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == type]

    def after(self, type: str) -> list[str]:
        index = types(self.events).index(type)
        return types(self.events)[index + 1 :]


@pytest.fixture
def make(recognizer, knobs):
    harnesses = []

    def make(config: dict = SESSION) -> Harness:
        harness = Harness(recognizer, knobs, config)
        harnesses.append(harness)
        return harness

    yield make
    for harness in harnesses:
        harness.session.close()


def user_text(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def test_session_created_comes_first_with_the_effective_config(make, knobs):
    h = make()
    (created,) = h.events
    assert created["type"] == "session.created"
    assert created["session"]["tools"][0]["name"] == "get_weather"
    assert created["session"]["expires_at"] > 0


async def test_session_update_replies_with_the_full_config(make):
    h = make()
    h.send(
        type="session.update",
        session={"type": "realtime", "instructions": "Be brief.", "audio": {"output": {"voice": "cedar"}}},
    )
    updated = h.events[-1]
    assert updated["type"] == "session.updated"
    assert updated["session"]["instructions"] == "Be brief."
    assert updated["session"]["audio"]["output"]["voice"] == "cedar"
    assert updated["session"]["audio"]["input"]["transcription"]["model"] == "gpt-4o-mini-transcribe"


async def test_a_session_update_with_another_model_applies_the_rest_and_keeps_the_model(make):
    """OpenAI's Agents SDK sends its default model in every update; upstream keeps the key's model."""
    h = make()
    tool = {"type": "function", "name": "lookup", "description": "Look up.", "parameters": {"type": "object"}}
    h.send(type="session.update", session={"type": "realtime", "model": "gpt-realtime-2.1", "tools": [tool]})
    updated = h.events[-1]
    assert updated["type"] == "session.updated"
    assert updated["session"]["model"] == "gpt-realtime"
    assert [t["name"] for t in updated["session"]["tools"]] == ["lookup"]


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        ({"type": "realtime", "modalities": ["text"]}, "unknown_parameter", "session.modalities"),
        ({"type": "realtime", "model": "gpt-5"}, "invalid_value", "session.model"),
    ],
)
async def test_a_bad_session_update_is_an_error_event_echoing_the_event_id(make, session, code, param):
    h = make()
    h.send(type="session.update", event_id="evt_cli_7", session=session)
    error = h.events[-1]
    assert error["type"] == "error"
    assert (error["error"]["code"], error["error"]["param"], error["error"]["event_id"]) == (
        code,
        param,
        "evt_cli_7",
    )


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{not json", "invalid_json"),
        ('{"event_id": "x"}', "invalid_event"),
        ('{"type": "response.explode"}', "invalid_value"),
    ],
)
async def test_malformed_client_events_get_error_events(make, message, code):
    h = make()
    h.session.handle(message)
    assert h.events[-1]["error"]["code"] == code


async def test_typed_weather_question_streams_one_function_call_per_place(make):
    h = make()
    h.send(type="conversation.item.create", item=user_text(WEATHER))
    assert types(h.events)[1:] == ["conversation.item.added", "conversation.item.done"]
    user_id = h.events[1]["item"]["id"]
    assert h.events[1]["previous_item_id"] is None
    h.send(type="response.create")
    done = await wait_for(h.events, "response.done")
    response = done["response"]
    assert response["status"] == "completed"
    calls = [(item["name"], json.loads(item["arguments"])) for item in response["output"]]
    assert calls == [("get_weather", {"location": "Paris"}), ("get_weather", {"location": "Berlin"})]
    assert all(item["call_id"].startswith("call_") for item in response["output"])
    assert response["usage"]["input_token_details"]["text_tokens"] > 0
    assert types(h.events)[3:] == [
        "response.created",
        "rate_limits.updated",
        *[
            "response.output_item.added",
            "conversation.item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "conversation.item.done",
        ]
        * 2,
        "response.done",
    ]
    first_call = h.of("conversation.item.added")[1]
    assert first_call["previous_item_id"] == user_id


async def test_tool_outputs_then_one_response_create_give_a_spoken_answer(make):
    h = make()
    h.send(type="conversation.item.create", item=user_text(WEATHER))
    h.send(type="response.create")
    calls = (await wait_for(h.events, "response.done"))["response"]["output"]
    outputs = [
        {"temperature": 12.3, "description": "partly cloudy"},
        {"error": "Weather service unavailable"},
    ]
    for call, output in zip(calls, outputs, strict=True):
        h.send(
            type="conversation.item.create",
            item={"type": "function_call_output", "call_id": call["call_id"], "output": json.dumps(output)},
        )
    h.send(type="response.create")
    await wait_for(h.events, "output_audio_buffer.stopped")
    done = h.of("response.done")[-1]["response"]
    (message,) = done["output"]
    expected = "In Paris it is 12 degrees and partly cloudy. Sorry, I couldn't get the weather for Berlin."
    assert message["content"] == [{"type": "output_audio", "transcript": expected}]
    assert done["usage"]["output_token_details"]["audio_tokens"] > 0
    deltas = "".join(e["delta"] for e in h.of("response.output_audio_transcript.delta"))
    assert deltas == expected
    spoken = types(h.events)[types(h.events).index("response.created", 20) :]
    assert spoken[:6] == [
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "output_audio_buffer.started",
    ]
    assert spoken[-7:] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "output_audio_buffer.stopped",
    ]


async def test_without_the_tool_it_replies_with_what_it_heard(make):
    h = make({"type": "realtime", "output_modalities": ["text"]})
    h.send(type="conversation.item.create", item=user_text("what is the weather in paris"))
    h.send(type="response.create")
    done = await wait_for(h.events, "response.done")
    assert done["response"]["output"][0]["content"] == [
        {"type": "output_text", "text": "You said: what is the weather in paris."}
    ]
    assert "response.output_text.delta" in types(h.events)
    assert "output_audio_buffer.started" not in types(h.events)


async def test_a_second_response_create_while_active_is_refused(make):
    h = make()
    h.send(type="conversation.item.create", item=user_text("hello"))
    h.send(type="response.create")
    h.send(type="response.create", event_id="evt_again")
    error = h.of("error")[0]["error"]
    assert error["code"] == "conversation_already_has_active_response"
    assert error["event_id"] == "evt_again"
    await wait_for(h.events, "response.done")


async def test_cancel_without_an_active_response_is_an_error(make):
    h = make()
    h.send(type="response.cancel")
    assert h.events[-1]["error"]["code"] == "response_cancel_not_active"


async def test_cancel_during_generation_ends_the_response_cancelled(make, knobs):
    knobs.generation_pace = 1.0
    h = make()
    h.send(type="conversation.item.create", item=user_text("tell me a joke please right now"))
    h.send(type="response.create")
    await wait_for(h.events, "response.output_audio_transcript.delta")
    h.send(type="response.cancel")
    h.send(type="output_audio_buffer.clear")
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"][0]["status"] == "incomplete"
    assert types(h.events)[-1] == "output_audio_buffer.cleared"
    await asyncio.sleep(0.8)
    assert "output_audio_buffer.stopped" not in types(h.events)


async def test_truncate_checks_the_audio_length(make):
    h = make()
    h.send(type="conversation.item.create", item=user_text("hello"))
    h.send(type="response.create")
    done = await wait_for(h.events, "response.done")
    item_id = done["response"]["output"][0]["id"]
    h.send(type="conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=60_000)
    assert h.events[-1]["error"]["code"] == "invalid_value"
    assert "already shorter than 60000ms" in h.events[-1]["error"]["message"]
    h.send(type="conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=100)
    assert h.events[-1] == {**h.events[-1], "type": "conversation.item.truncated", "audio_end_ms": 100}


async def test_items_can_be_placed_deleted_and_retrieved(make):
    h = make()
    h.send(type="conversation.item.create", item=user_text("second"))
    h.send(type="conversation.item.create", item=user_text("first"), previous_item_id="root")
    assert [i["content"][0]["text"] for i in h.session.items] == ["first", "second"]
    h.send(type="conversation.item.create", item=user_text("x"), previous_item_id="item_missing")
    assert h.events[-1]["error"]["param"] == "previous_item_id"
    first = h.session.items[0]["id"]
    h.send(type="conversation.item.retrieve", item_id=first)
    assert h.events[-1]["item"]["id"] == first
    h.send(type="conversation.item.delete", item_id=first)
    assert h.events[-1] == {**h.events[-1], "type": "conversation.item.deleted", "item_id": first}


async def test_the_session_limit_sends_session_expired_and_closes(make, knobs):
    knobs.session_limit = 0.1
    h = make()
    await asyncio.sleep(0.3)
    error = h.of("error")[0]["error"]
    assert error["code"] == "session_expired"
    assert error["message"].startswith("Your session hit the maximum duration of")
    assert h.closed


async def test_a_voice_turn_follows_the_upstream_order(make):
    h = make()
    h.say(WEATHER)
    await wait_for(h.events, "response.done")
    await wait_for(h.events, "conversation.item.input_audio_transcription.completed")
    sequence = types(h.events)
    assert sequence[1:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    started, stopped, committed, added = h.events[1:5]
    assert started["item_id"] == stopped["item_id"] == committed["item_id"] == added["item"]["id"]
    assert stopped["audio_end_ms"] > started["audio_start_ms"]
    assert added["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    completed = h.of("conversation.item.input_audio_transcription.completed")[0]
    assert completed["transcript"] == WEATHER
    assert completed["usage"]["type"] == "tokens"
    assert sequence.index("response.created") < sequence.index(
        "conversation.item.input_audio_transcription.completed"
    )
    calls = h.of("response.done")[0]["response"]["output"]
    assert [json.loads(c["arguments"])["location"] for c in calls] == ["Paris", "Berlin"]


@pytest.mark.parametrize("timing", ["before_response", "after_response"])
async def test_the_transcription_timing_knob(make, knobs, timing):
    knobs.transcription_timing = timing
    h = make()
    h.say("hello")
    await wait_for(h.events, "conversation.item.input_audio_transcription.completed")
    await wait_for(h.events, "response.done")
    sequence = types(h.events)
    position = sequence.index("conversation.item.input_audio_transcription.completed")
    if timing == "before_response":
        assert position < sequence.index("response.created")
    else:
        assert position > sequence.index("response.done")


async def test_the_failure_knob_sends_transcription_failed(make, knobs):
    knobs.transcription_fails = True
    h = make()
    h.say("hello")
    failed = await wait_for(h.events, "conversation.item.input_audio_transcription.failed")
    assert failed["error"]["type"] == "transcription_error"
    await wait_for(h.events, "response.done")
    assert not h.of("conversation.item.input_audio_transcription.completed")


async def test_without_transcription_there_are_no_transcription_events(make):
    h = make({**SESSION, "audio": {}})
    h.say("hello")
    done = await wait_for(h.events, "response.done")
    assert (
        done["response"]["output"][0]["content"][0]["transcript"]
        == "Hello! Ask me about the weather anywhere."
    )
    assert not [t for t in types(h.events) if "transcription" in t]


async def test_speech_while_generating_is_a_barge_in(make, knobs):
    knobs.generation_pace = 1.0
    h = make()
    h.send(type="conversation.item.create", item=user_text("tell me a joke"))
    h.send(type="response.create")
    await wait_for(h.events, "response.output_audio_transcript.delta")
    h.say("stop")
    barge = h.after("input_audio_buffer.speech_started")
    assert barge[:7] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "output_audio_buffer.cleared",
    ]
    assert barge[7] == "conversation.item.truncated"
    cancelled = h.of("response.done")[0]["response"]
    assert cancelled["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    second = await wait_for(h.events, "response.done", count=2)
    assert second["response"]["output"][0]["content"][0]["transcript"] == "Okay, I'll stop."


async def test_speech_while_only_playing_clears_the_audio(make, knobs):
    knobs.generation_pace = 0.05
    h = make()
    h.send(type="conversation.item.create", item=user_text("tell me a joke"))
    h.send(type="response.create")
    done = await wait_for(h.events, "response.done")
    assert done["response"]["status"] == "completed"
    h.say("thank you")
    assert h.after("input_audio_buffer.speech_started")[:2] == [
        "output_audio_buffer.cleared",
        "conversation.item.truncated",
    ]
    assert h.of("response.done")[0]["response"]["status"] == "completed"


async def test_push_to_talk_commits_on_request(make):
    h = make({**SESSION, "audio": {"input": {"turn_detection": None}}})
    h.send(type="input_audio_buffer.commit")
    assert h.events[-1]["error"]["code"] == "input_audio_buffer_commit_empty"
    h.say("hello")
    assert types(h.events) == ["session.created", "error"]
    h.send(type="input_audio_buffer.commit")
    await wait_for(h.events, "conversation.item.done")
    assert types(h.events)[-3:] == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    h.send(type="response.create")
    done = await wait_for(h.events, "response.done")
    assert (
        done["response"]["output"][0]["content"][0]["transcript"]
        == "Hello! Ask me about the weather anywhere."
    )
