"""The bench's fake upstream answers the GPT-Live create as openai-python reads it, takes the realistic
offer our endpoint accepts, and reports its own time (which the bench leaves out)."""

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from openai.types.live import LiveCreateResponse

from bench.sdp import ANSWER, OFFER
from bench.upstream import make_app
from conversations.serializers import LiveSessionRequestSerializer


def post_live_sessions(body: dict) -> tuple[int, dict, list]:
    async def run():
        async with TestClient(TestServer(make_app(delay=0.01))) as client:
            response = await client.post("/v1/live/sessions", json=body)
            timings = await (await client.post("/_bench/timings")).json()
            return response.status, await response.json(), timings

    return asyncio.run(run())


def test_a_live_create_is_answered_with_an_sdp_answer_shaped_as_the_sdk_reads_it():
    body = {"session": {"model": "gpt-live-1"}, "transport": {"type": "webrtc", "sdp": OFFER}}
    status, answer, timings = post_live_sessions(body)
    assert status == 201
    created = LiveCreateResponse.model_validate(answer)
    assert created.session.id.startswith("live_")
    assert created.transport.sdp == ANSWER
    assert len(timings) == 1 and 0.01 <= timings[0] < 1


def test_a_create_without_an_offer_is_refused_like_the_real_api():
    status, answer, _ = post_live_sessions({"session": {"model": "gpt-live-1"}})
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"


def test_the_benchs_offer_is_one_our_endpoint_accepts():
    body = LiveSessionRequestSerializer(data={"sdp": OFFER})
    assert body.is_valid(), body.errors
    assert OFFER.count("a=candidate:") == 8  # audio and data channel, ICE gathering complete
