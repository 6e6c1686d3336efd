"""POST /_emulator/drop: a call is lost mid-conversation without any goodbye event."""

import asyncio
import json

import emulator_shapes
from aiortc import RTCPeerConnection, RTCSessionDescription
from emulator_harness import AUTH, running, wait_for


async def realtime_call(client) -> tuple[RTCPeerConnection, object, list[dict], str]:
    """Open a Realtime call with the API key; return the peer, its channel, its events, the call id."""
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="sendrecv")
    channel = pc.createDataChannel("oai-events")
    events: list[dict] = []
    channel.on("message", lambda message: events.append(json.loads(message)))
    await pc.setLocalDescription(await pc.createOffer())
    response = await client.post(
        "/v1/realtime/calls",
        data=pc.localDescription.sdp,
        headers={**AUTH, "Content-Type": "application/sdp"},
    )
    assert response.status == 201
    await pc.setRemoteDescription(RTCSessionDescription(sdp=await response.text(), type="answer"))
    await wait_for(events, "session.created")
    return pc, channel, events, response.headers["Location"].rsplit("/", 1)[-1]


async def wait_closed(channel, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while channel.readyState != "closed":
            await asyncio.sleep(0.02)


async def test_dropping_a_call_closes_the_callers_channel_without_an_event(app):
    async with running(app) as client:
        pc, channel, events, call_id = await realtime_call(client)
        other_pc, other_channel, _, other_id = await realtime_call(client)
        received = len(events)

        response = await client.post("/_emulator/drop", json={"id": call_id})

        assert response.status == 200
        assert await response.json() == {"dropped": [call_id], "mode": "close"}
        await wait_closed(channel)
        assert len(events) == received, "a dropped call must not say goodbye"
        assert other_channel.readyState == "open"
        health = await (await client.get("/_emulator/health")).json()
        assert health["calls"] == 1
        again = await client.post("/_emulator/drop", json={"id": call_id})
        assert again.status == 404
        emulator_shapes.error_envelope(await again.json(), "not_found", "id")
        everything = await client.post("/_emulator/drop", json={})
        assert (await everything.json())["dropped"] == [other_id]
        await wait_closed(other_channel)
    await pc.close()
    await other_pc.close()


async def test_a_silent_drop_tells_the_caller_nothing(app):
    async with running(app) as client:
        pc, channel, events, call_id = await realtime_call(client)
        received = len(events)

        response = await client.post("/_emulator/drop", json={"mode": "silent"})

        assert (await response.json()) == {"dropped": [call_id], "mode": "silent"}
        assert (await (await client.get("/_emulator/health")).json())["calls"] == 0
        # Like a pulled cable: no abort reaches the caller, and its messages go nowhere.
        channel.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        await asyncio.sleep(0.5)
        assert channel.readyState == "open"
        assert len(events) == received
    await pc.close()


async def test_drop_rejects_unknown_fields_and_modes(app):
    async with running(app) as client:
        unknown = await client.post("/_emulator/drop", json={"call": "rtc_1"})
        mode = await client.post("/_emulator/drop", json={"mode": "explode"})
        nothing = await client.post("/_emulator/drop")
        assert unknown.status == 400
        emulator_shapes.error_envelope(await unknown.json(), "unknown_parameter", "call")
        assert mode.status == 400
        emulator_shapes.error_envelope(await mode.json(), "invalid_value", "mode")
        assert await nothing.json() == {"dropped": [], "mode": "close"}
