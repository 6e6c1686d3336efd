"""POST /v1/live/sessions over real WebRTC (aiortc client peer) and its strict validation."""

import asyncio
import json
import subprocess

import emulator_shapes
import live_shapes
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from emulator_harness import API_KEY, AUTH, running, speak, wait_for
from test_emulator_live_session import APP_SESSION, WEATHER_OUTPUT

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def offer(wav: str | None = None) -> tuple[RTCPeerConnection, object, list[dict]]:
    """A browser-like peer: mic track (or a receive-only transceiver) and the oai-events channel."""
    pc = RTCPeerConnection()
    if wav:
        pc.addTrack(MediaPlayer(wav).audio)
    else:
        pc.addTransceiver("audio", direction="sendrecv")
    channel = pc.createDataChannel("oai-events")
    events: list[dict] = []
    channel.on("message", lambda message: events.append(json.loads(message)))
    # aiortc gathers inside setLocalDescription: like the GPT-Live page, the offer carries candidates.
    await pc.setLocalDescription(await pc.createOffer())
    return pc, channel, events


def body(sdp: str, session: dict = APP_SESSION) -> dict:
    return live_shapes.create_body({"session": session, "transport": {"type": "webrtc", "sdp": sdp}})


async def create(client, payload: dict, headers: dict = AUTH):
    return await client.post("/v1/live/sessions", json=payload, headers=headers)


async def test_an_offer_gets_a_201_json_answer_and_the_session_starts(app):
    pc, channel, events = await offer()
    assert "a=candidate" in pc.localDescription.sdp
    async with running(app) as client:
        response = await create(client, body(pc.localDescription.sdp))
        reply = await response.json()
        assert response.status == 201
        assert "Location" not in response.headers
        live_shapes.create_reply(reply)
        assert (
            "a=candidate" in reply["transport"]["sdp"] and "webrtc-datachannel" in reply["transport"]["sdp"]
        )
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["transport"]["sdp"], type="answer"))

        started = await wait_for(events, "session.started")
        live_shapes.server_event(started)
        assert started["session"]["id"] == reply["session"]["id"]
        assert started["session"]["delegation"]["responses"]["tools"][0]["name"] == "get_weather"
        health = await (await client.get("/_emulator/health")).json()
        assert health["calls"] == 1
    await pc.close()


async def test_two_sessions_get_different_ids(app):
    peers = [await offer(), await offer()]
    async with running(app) as client:
        replies = [await (await create(client, body(pc.localDescription.sdp))).json() for pc, _, _ in peers]
        dropped = await (await client.post("/_emulator/drop", json={})).json()
    ids = {reply["session"]["id"] for reply in replies}
    assert len(ids) == 2 and set(dropped["dropped"]) == ids
    for pc, _, _ in peers:
        await pc.close()


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "You didn't provide an API key"), ({"Authorization": "Bearer sk-wrong-key"}, "Incorrect API key")],
)
async def test_a_missing_or_wrong_key_is_401(app, headers, message):
    async with running(app) as client:
        response = await create(client, body(OFFER), headers=headers)
        payload = await response.json()
    assert response.status == 401
    emulator_shapes.error_envelope(payload, "invalid_api_key")
    assert message in payload["error"]["message"]
    assert API_KEY not in json.dumps(payload)


def _with(**changes) -> dict:
    session = {**APP_SESSION, **changes}
    return {"session": session, "transport": {"type": "webrtc", "sdp": OFFER}}


@pytest.mark.parametrize(
    ("payload", "code", "param"),
    [
        ({"session": {"instructions": "x"}, "transport": {"type": "webrtc", "sdp": OFFER}}, "missing_required_parameter", "session.model"),
        ({"session": APP_SESSION}, "missing_required_parameter", "transport"),
        ({"session": APP_SESSION, "transport": {"type": "websocket", "sdp": OFFER}}, "invalid_value", "transport.type"),
        ({"session": APP_SESSION, "transport": {"type": "webrtc", "sdp": "  "}}, "invalid_value", "transport.sdp"),
        ({"session": APP_SESSION, "transport": {"type": "webrtc"}}, "missing_required_parameter", "transport.sdp"),
        ({"session": APP_SESSION, "transport": {"type": "webrtc", "sdp": "hello"}}, "invalid_offer", "transport.sdp"),
        ({"session": APP_SESSION, "transport": {"type": "webrtc", "sdp": OFFER}, "model": "gpt-live-1"}, "unknown_parameter", "model"),
        (_with(voice="marin"), "unknown_parameter", "session.voice"),
        (_with(tools=[]), "unknown_parameter", "session.tools"),
        (_with(audio={"format": {"type": "audio/pcm", "rate": 24000}}), "unknown_parameter", "session.audio.format"),
        (_with(audio={"output": {"voice": "nova"}}), "invalid_value", "session.audio.output.voice"),
        (_with(delegation={"type": "server"}), "invalid_value", "session.delegation.type"),
        (_with(delegation={"type": "responses"}), "missing_required_parameter", "session.delegation.responses"),
        (_with(store="yes"), "invalid_type", "session.store"),
        (
            _with(delegation={"type": "responses", "responses": {"model": "m", "tools": [{"type": "shell"}]}}),
            "invalid_value",
            "session.delegation.responses.tools[0].type",
        ),
        (_with(idle_timeout_s=0), "invalid_value", "session.idle_timeout_s"),
        (_with(wake_policy={"type": "speech", "threshold": 1}), "unknown_parameter", "session.wake_policy.threshold"),
        (
            _with(delegation={**APP_SESSION["delegation"], "responses": {"model": "m", "tool": []}}),
            "unknown_parameter",
            "session.delegation.responses.tool",
        ),
    ],
)  # fmt: skip
async def test_the_strict_server_rejects_bad_bodies(app, payload, code, param):
    async with running(app) as client:
        response = await create(client, payload)
        error = await response.json()
        health = await (await client.get("/_emulator/health")).json()
    assert response.status == 400
    emulator_shapes.error_envelope(error, code, param)
    assert health["calls"] == 0, "a refused create opens no session"


async def test_webrtc_only_settings_are_accepted_but_not_echoed(app):
    pc, _, events = await offer()
    payload = body(
        pc.localDescription.sdp, {**APP_SESSION, "idle_timeout_s": 30, "wake_policy": {"type": "speech"}}
    )
    async with running(app) as client:
        response = await create(client, payload)
        reply = await response.json()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["transport"]["sdp"], type="answer"))
        session = (await wait_for(events, "session.started"))["session"]
    assert response.status == 201
    assert "idle_timeout_s" not in session and "wake_policy" not in session
    await pc.close()


async def test_json_is_required(app):
    async with running(app) as client:
        response = await client.post(
            "/v1/live/sessions", data=OFFER, headers={**AUTH, "Content-Type": "application/sdp"}
        )
        payload = await response.json()
    assert response.status == 400
    emulator_shapes.error_envelope(payload, "unsupported_content_type")


async def test_an_unknown_model_is_not_found_and_a_project_without_access_is_forbidden(app, knobs):
    async with running(app) as client:
        unknown = await create(client, _with(model="gpt-live-9"))
        knobs.update({"live_access": False})
        forbidden = await create(client, _with(model="gpt-live-1"))
        unknown_error, forbidden_error = await unknown.json(), await forbidden.json()
    assert unknown.status == 404
    emulator_shapes.error_envelope(unknown_error, "model_not_found")
    assert "gpt-live-9" in unknown_error["error"]["message"]
    assert forbidden.status == 403
    emulator_shapes.error_envelope(forbidden_error, "model_not_found")
    assert "does not have access" in forbidden_error["error"]["message"]


async def test_dropping_a_live_session_closes_the_channel_without_session_closed(app):
    pc, channel, events = await offer()
    async with running(app) as client:
        reply = await (await create(client, body(pc.localDescription.sdp))).json()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["transport"]["sdp"], type="answer"))
        await wait_for(events, "session.started")

        dropped = await client.post("/_emulator/drop", json={"id": reply["session"]["id"]})

        assert (await dropped.json())["dropped"] == [reply["session"]["id"]]
        async with asyncio.timeout(10):
            while channel.readyState != "closed":
                await asyncio.sleep(0.02)
        assert "session.closed" not in [e["type"] for e in events]
    await pc.close()


async def test_a_spoken_weather_question_over_webrtc(app, tmp_path):
    """Speech in, delegation + tool call, tool output back, the answer heard; then session.close."""
    wav = tmp_path / "question.wav"
    pcm = speak("what is the weather in amsterdam", rate=48000, lead=1.0, tail=8.0)
    subprocess.run(
        ["sox", "-t", "raw", "-r", "48000", "-b", "16", "-c", "1", "-e", "signed-integer", "-", str(wav)],
        input=pcm,
        check=True,
    )
    pc, channel, events = await offer(str(wav))
    energy: list[float] = []

    @pc.on("track")
    def listen(track):
        async def drain():
            while True:
                frame = await track.recv()
                energy.append(float(np.abs(frame.to_ndarray().astype(np.int32)).mean()))

        asyncio.ensure_future(drain())

    async with running(app) as client:
        reply = await (await create(client, body(pc.localDescription.sdp))).json()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["transport"]["sdp"], type="answer"))

        async with asyncio.timeout(20):
            while not any(
                e["type"] == "response.event" and e["event"]["type"] == "response.output_item.done"
                for e in events
            ):
                await asyncio.sleep(0.02)
        heard = "".join(e["delta"] for e in events if e["type"] == "session.input_transcript.delta")
        assert heard == "what is the weather in amsterdam"
        call = next(
            e["event"]["item"] for e in events if e["type"] == "response.event" and "item" in e["event"]
        )
        assert json.loads(call["arguments"]) == {"location": "Amsterdam"}
        for command in (
            {
                "type": "response.item.create",
                "event_id": "tool_1",
                "item": {
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": WEATHER_OUTPUT,
                },
            },
            {"type": "response.create", "event_id": "continue_1"},
        ):
            channel.send(json.dumps(live_shapes.client_event(command)))
        answer = "In Amsterdam it is 14 degrees and sunny."
        async with asyncio.timeout(20):
            while answer not in "".join(
                e["delta"] for e in events if e["type"] == "session.output_transcript.delta"
            ):
                await asyncio.sleep(0.02)
        await asyncio.sleep(1.5)
        assert max(energy) > 100, "the spoken answer never reached the caller"

        channel.send(json.dumps({"type": "session.close", "event_id": "close_1"}))
        closed = await wait_for(events, "session.closed")
        assert (closed["reason"], closed["client_event_id"]) == ("close_requested", "close_1")
        async with asyncio.timeout(10):
            while channel.readyState != "closed":
                await asyncio.sleep(0.02)
        assert events[-1] is closed
        assert events[0]["type"] == "session.started"
        for event in events:
            live_shapes.server_event(event)
    await pc.close()
