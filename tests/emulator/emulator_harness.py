"""Helpers for the emulator's tests: a running test client, espeak-ng speech, event waiting."""

import asyncio
import contextlib

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from emulator.speech_out import speak_as_user

API_KEY = "sk-test-emulator"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SESSION = {
    "type": "realtime",
    "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"}}},
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a place.",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        }
    ],
}


@contextlib.asynccontextmanager
async def running(app: web.Application):
    """Serve `app` on a free loopback port; yield an aiohttp TestClient."""
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def speak(
    text: str, rate: int = 16000, lead: float = 0.5, tail: float = 1.0, voice: str = "en-us", wpm: int = 150
) -> bytes:
    """Return espeak-ng speech as raw mono s16 PCM at `rate`, padded with silence."""
    return speak_as_user(text, voice=voice, wpm=wpm, rate=rate, lead=lead, tail=tail)


async def wait_for(events: list[dict], type: str, *, count: int = 1, timeout: float = 10.0) -> dict:
    """Wait until `count` events of `type` were received; return the last of them."""
    async with asyncio.timeout(timeout):
        while True:
            matching = [event for event in events if event["type"] == type]
            if len(matching) >= count:
                return matching[count - 1]
            await asyncio.sleep(0.01)


def types(events: list[dict]) -> list[str]:
    """Return the event types in order."""
    return [event["type"] for event in events]
