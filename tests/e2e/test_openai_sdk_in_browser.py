"""OpenAI's own browser SDK (`@openai/agents-realtime`) as a client of the emulator, from another origin.

The SDK is bundled with esbuild from `tests/sdk/` (dev-only; `make test` runs `npm ci` there) and
served by a plain HTTP server on `localhost`, while the emulator listens on `127.0.0.1`: every
request the SDK makes is cross-origin, preflights included. Every event its data channel receives
is checked against the SDK's own zod schema (`realtimeServerEventSchema`).
"""

import functools
import http.server
import os
import subprocess
import threading

import httpx
import pytest

from tests.e2e.conftest import EMULATOR_KEY, ROOT, received_audio_energy

SDK = ROOT / "tests" / "sdk"
PAGE = """<!doctype html><meta charset="utf-8"><title>SDK</title>
<script type="module" src="client.js"></script>"""


@pytest.fixture(scope="module")
def sdk_page(tmp_path_factory):
    """The bundled SDK client, served from an origin other than the emulator's."""
    esbuild = SDK / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        message = "tests/sdk/node_modules is missing (make test runs npm ci there)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("sdk")
    subprocess.run(
        [str(esbuild), "client.js", "--bundle", "--format=esm", "--platform=browser",
         f"--outfile={folder / 'client.js'}", "--log-level=warning"],
        cwd=SDK,
        check=True,
    )  # fmt: skip
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/index.html"
    server.shutdown()


def mint_key(emulator: str) -> str:
    """What the app's server does: an ephemeral key for a session on another model than the SDK's."""
    response = httpx.post(
        f"{emulator}/v1/realtime/client_secrets",
        json={"session": {"type": "realtime", "model": "gpt-realtime"}},
        headers={"Authorization": f"Bearer {EMULATOR_KEY}"},
    )
    response.raise_for_status()
    return response.json()["value"]


def test_openai_agents_sdk_answers_a_typed_and_a_spoken_weather_question_cross_origin(
    emulator, browser, say, sdk_page
):
    # The spoken question comes once the typed exchange is over (the fake microphone starts at once);
    # 14 s of lead was not always enough on a busy CI machine: the question cut the typed answer.
    page = browser(say("what is the weather in paris", lead=25.0, trail=30.0))
    page.goto(sdk_page)
    page.evaluate(
        "args => window.runSdk(args)",
        {"emulator": emulator, "key": mint_key(emulator), "typed": "What is the weather in Tokyo?"},
    )
    page.wait_for_function(
        "() => window.sdkReport().transcripts.some(t => t.includes('Paris'))", timeout=90_000
    )
    report = page.evaluate("window.sdkReport()")

    assert report["connected"]
    assert report["toolCalls"] == ["Tokyo", "Paris"]
    answers = report["transcripts"]
    assert [answer.split(" it is ")[0] for answer in answers] == ["In Tokyo", "In Paris"]
    assert "session.updated" in report["events"]
    assert "conversation.item.input_audio_transcription.completed" in report["events"]
    assert report["errors"] == []
    assert report["invalid"] == []
    assert received_audio_energy(page) > 0
