"""POST /v1/realtime/calls over real WebRTC (aiortc client peer), CORS, hang-up and the CLI."""

import asyncio
import fractions
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import emulator_shapes
import numpy as np
import pytest
from aiohttp import FormData
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from emulator_harness import API_KEY, AUTH, SESSION, running, speak, wait_for

from emulator.calls import MicrophoneTimeline

ROOT = Path(__file__).resolve().parents[2]


async def offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="sendrecv")
    pc.createDataChannel("oai-events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def mint(client, session: dict = SESSION) -> str:
    response = await client.post("/v1/realtime/client_secrets", json={"session": session}, headers=AUTH)
    return (await response.json())["value"]


async def test_an_sdp_offer_with_an_ephemeral_key_gets_a_201_answer(app):
    pc, sdp = await offer()
    async with running(app) as client:
        key = await mint(client)
        response = await client.post(
            "/v1/realtime/calls",
            data=sdp,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"},
        )
        answer = await response.text()
        assert response.status == 201
        assert response.content_type == "application/sdp"
        assert response.headers["Location"].startswith("/v1/realtime/calls/rtc_")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Location" in response.headers["Access-Control-Expose-Headers"]
        assert answer.startswith("v=0") and "a=candidate" in answer and "webrtc-datachannel" in answer
        call_id = response.headers["Location"].rsplit("/", 1)[-1]
        hangup = await client.post(f"/v1/realtime/calls/{call_id}/hangup", headers=AUTH)
        assert hangup.status == 200
        again = await client.post(f"/v1/realtime/calls/{call_id}/hangup", headers=AUTH)
        assert again.status == 404
    await pc.close()


async def test_the_unified_multipart_offer_needs_the_api_key(app):
    pc, sdp = await offer()
    form = FormData()
    form.add_field("sdp", sdp, content_type="application/sdp")
    form.add_field("session", json.dumps(SESSION), content_type="application/json")
    async with running(app) as client:
        response = await client.post("/v1/realtime/calls", data=form, headers=AUTH)
        assert response.status == 201
        call_id = response.headers["Location"].rsplit("/", 1)[-1]
        await client.post(f"/v1/realtime/calls/{call_id}/hangup", headers=AUTH)
    await pc.close()


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Content-Type": "application/sdp"}, 401, "invalid_api_key"),
        ({"Content-Type": "application/sdp", "Authorization": "Bearer ek_expired"}, 401, "invalid_api_key"),
        (
            {"Content-Type": "text/plain", "Authorization": f"Bearer {API_KEY}"},
            400,
            "unsupported_content_type",
        ),
    ],
)
async def test_bad_call_requests_get_the_error_envelope(app, headers, status, code):
    async with running(app) as client:
        response = await client.post("/v1/realtime/calls", data="v=0\r\n", headers=headers)
        body = await response.json()
    assert response.status == status
    emulator_shapes.error_envelope(body, code)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_preflight_allows_the_browser_headers(app):
    async with running(app) as client:
        response = await client.options(
            "/v1/realtime/calls",
            headers={"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST"},
        )
    assert response.status == 204
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


async def test_preflight_allows_whatever_headers_an_sdk_asks_for(app):
    """OpenAI's Agents SDK sends X-OpenAI-Agents-SDK with the SDP offer; openai-node X-Stainless-*."""
    asked = "authorization,content-type,x-openai-agents-sdk,x-stainless-retry-count"
    async with running(app) as client:
        response = await client.options(
            "/v1/realtime/calls",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": asked,
            },
        )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == asked
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_a_voice_round_trip_over_webrtc(app, tmp_path):
    """The caller speaks a weather question; the emulator hears it, calls get_weather, then talks."""
    wav = tmp_path / "question.wav"
    wav.write_bytes(b"")
    pcm = speak("what is the weather in paris and berlin", rate=48000, lead=1.0, tail=6.0)
    subprocess.run(
        ["sox", "-t", "raw", "-r", "48000", "-b", "16", "-c", "1", "-e", "signed-integer", "-", str(wav)],
        input=pcm,
        check=True,
    )
    events: list[dict] = []
    energy = []
    pc = RTCPeerConnection()
    pc.addTrack(MediaPlayer(str(wav)).audio)
    channel = pc.createDataChannel("oai-events")
    channel.on("message", lambda message: events.append(json.loads(message)))

    @pc.on("track")
    def listen(track):
        async def drain():
            while True:
                frame = await track.recv()
                energy.append(float(np.abs(frame.to_ndarray().astype(np.int32)).mean()))

        asyncio.ensure_future(drain())

    await pc.setLocalDescription(await pc.createOffer())
    async with running(app) as client:
        key = await mint(client)
        response = await client.post(
            "/v1/realtime/calls",
            data=pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"},
        )
        assert response.status == 201
        await pc.setRemoteDescription(RTCSessionDescription(sdp=await response.text(), type="answer"))

        transcript = await wait_for(
            events, "conversation.item.input_audio_transcription.completed", timeout=15
        )
        assert transcript["transcript"] == "what is the weather in paris and berlin"
        calls = (await wait_for(events, "response.done", timeout=10))["response"]["output"]
        assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
            ("get_weather", {"location": "Paris"}),
            ("get_weather", {"location": "Berlin"}),
        ]
        for call in calls:
            output = json.dumps({"temperature": 14, "description": "sunny"})
            channel.send(
                json.dumps(
                    {
                        "type": "conversation.item.create",
                        "item": {
                            "type": "function_call_output",
                            "call_id": call["call_id"],
                            "output": output,
                        },
                    }
                )
            )
        channel.send(json.dumps({"type": "response.create"}))
        await wait_for(events, "output_audio_buffer.stopped", timeout=15)
        answer = [e for e in events if e["type"] == "response.done"][-1]["response"]["output"][0]
        assert (
            answer["content"][0]["transcript"]
            == "In Paris it is 14 degrees and sunny. In Berlin it is 14 degrees and sunny."
        )
        assert max(energy) > 100, "the spoken answer never reached the caller"
        assert events[0]["type"] == "session.created"
        for event in events:
            emulator_shapes.server_event(event)
    await pc.close()


class LossyMicrophone(MediaStreamTrack):
    """Plays 48 kHz mono PCM parts in real time, then silence; the frames of each pause are lost
    on the way (timestamps advance, nothing is sent), as when packets are dropped."""

    kind = "audio"

    def __init__(self, parts: list[bytes], pause_s: float) -> None:
        super().__init__()
        self._frames: list[tuple[int, bytes]] = []
        pts = 0
        for part in parts:
            for offset in range(0, len(part) - 1920 + 1, 1920):
                self._frames.append((pts, part[offset : offset + 1920]))
                pts += 960
            pts += int(pause_s * 48000)
        self._started: float | None = None
        self._sent = 0

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        self._started = self._started or loop.time()
        await asyncio.sleep(max(0, self._started + self._sent * 0.02 - loop.time()))
        last_pts = self._frames[-1][0]
        pts, pcm = self._frames[self._sent] if self._sent < len(self._frames) else (last_pts, bytes(1920))
        pts += 960 * max(0, self._sent - len(self._frames) + 1)  # then silence
        self._sent += 1
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(pcm, np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = 48000, pts, fractions.Fraction(1, 48000)
        return frame


async def test_audio_lost_between_two_questions_still_separates_them(app):
    """1.5 s between two questions lost on the way: still two utterances, each heard on its own."""
    first = speak("what is the weather in lima", rate=48000, lead=0.5, tail=0)
    second = speak("what is the weather in lisbon", rate=48000, lead=0, tail=3.0)
    events: list[dict] = []
    pc = RTCPeerConnection()
    pc.addTrack(LossyMicrophone([first, second], pause_s=1.5))
    channel = pc.createDataChannel("oai-events")
    channel.on("message", lambda message: events.append(json.loads(message)))
    await pc.setLocalDescription(await pc.createOffer())
    session = {**SESSION, "audio": {"input": {**SESSION["audio"]["input"], "turn_detection": {
        "type": "server_vad", "create_response": False}}}}  # fmt: skip
    async with running(app) as client:
        key = await mint(client, session)
        response = await client.post(
            "/v1/realtime/calls",
            data=pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"},
        )
        await pc.setRemoteDescription(RTCSessionDescription(sdp=await response.text(), type="answer"))
        done = "conversation.item.input_audio_transcription.completed"
        await wait_for(events, done, count=2, timeout=20)
    await pc.close()
    heard = [event["transcript"] for event in events if event["type"] == done]
    assert heard == ["what is the weather in lima", "what is the weather in lisbon"]
    ends = [e["audio_end_ms"] for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    starts = [e["audio_start_ms"] for e in events if e["type"] == "input_audio_buffer.speech_started"]
    assert starts[1] - ends[0] >= 1000, "the lost pause counts as time"


def _frame(pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), format="s16", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = 48000, pts, fractions.Fraction(1, 48000)
    return frame


def test_the_microphone_timeline_counts_lost_frames_across_the_rtp_wrap():
    timeline = MicrophoneTimeline()
    start = (1 << 32) - 960 * 3
    assert [timeline.missing_ms(_frame(start + i * 960)) for i in range(2)] == [0, 0]
    assert timeline.missing_ms(_frame(start + 2 * 960 + 48000)) == 1000  # 50 frames lost
    assert timeline.missing_ms(_frame((start + 3 * 960 + 48000) % (1 << 32))) == 0  # wrapped
    assert timeline.missing_ms(_frame(5)) == 0  # a jump back (reordered, or a new sender) is no gap
    assert timeline.missing_ms(_frame(965 + 48000 * 120)) == 0  # two minutes: a new timeline


def test_the_command_starts_and_prints_one_ready_line(unused_port):
    env = {**os.environ, "EMULATOR_API_KEY": "sk-cli"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(unused_port),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # How fast it starts is measured by `make bench` (offline section), not asserted here.
        line = process.stdout.readline()
        assert line.strip() == f"emulator listening on http://127.0.0.1:{unused_port}"
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{unused_port}/_emulator/health") as answer:
            assert json.load(answer)["status"] == "ok"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
