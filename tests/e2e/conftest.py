"""End-to-end fixtures: the app (pytest-django's live server), the local emulator, and a real
Chromium with a fake microphone (docs/offline-testing.md)."""

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
EMULATOR_KEY = "sk-emulator-e2e"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]

# Records CSP violations, and keeps the page's peer connections reachable for getStats().
INIT_SCRIPT = """
document.addEventListener('securitypolicyviolation',
  e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));
if (window.RTCPeerConnection) {
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); (window.__pcs = window.__pcs || []).push(this); }
    createDataChannel(...args) {
      const channel = super.createDataChannel(...args);
      const log = (direction, data) => {
        try { (window.__events = window.__events || []).push(direction + " " + JSON.parse(data).type); } catch {}
      };
      channel.addEventListener("message", (e) => log("<", e.data));
      const send = channel.send.bind(channel);
      channel.send = (data) => { log(">", data); send(data); };
      return channel;
    }
  };
}
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


def _require(tool: str) -> None:
    if shutil.which(tool) is None and not Path(tool).exists():
        message = f"{tool} is not installed (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # in CI a missing browser is a failure, not a skip
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def emulator():
    """The local OpenAI Realtime + Open-Meteo emulator, in its own process."""
    for tool in (CHROMIUM, "espeak-ng", "sox"):
        _require(tool)
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "emulator.log", "w")  # noqa: SIM115 - open for the whole session
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--api-key", EMULATOR_KEY]
    process = subprocess.Popen(
        [*command, "--log-level", "INFO"], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
    )
    ready = process.stdout.readline()
    assert "listening" in ready, f"emulator did not start: {ready!r}"
    base = f"http://127.0.0.1:{port}"
    yield base
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def emulator_knobs(emulator):
    """Change the emulator's behaviour for one test; the defaults come back afterwards."""
    original = httpx.get(f"{emulator}/_emulator/knobs").json()

    def change(**knobs):
        httpx.patch(f"{emulator}/_emulator/knobs", json=knobs).raise_for_status()

    yield change
    httpx.patch(f"{emulator}/_emulator/knobs", json=original)


@pytest.fixture
def app(live_server, emulator, settings, transactional_db, monkeypatch):
    """The app under test, pointed at the emulator exactly as `make run` does offline."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to
    # check what was stored are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.OPENAI_API_KEY = EMULATOR_KEY
    settings.OPENAI_BASE_URL = f"{emulator}/v1"
    settings.OPENAI_AUTH_STYLE = "openai"
    settings.OPEN_METEO_GEOCODING_URL = f"{emulator}/v1/search"
    settings.OPEN_METEO_FORECAST_URL = f"{emulator}/v1/forecast"
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["connect-src"] = ["'self'", emulator]
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "DIRECTIVES": directives}
    return live_server.url


@pytest.fixture(scope="session")
def say(tmp_path_factory):
    """Make a fake-microphone WAV of a sentence: espeak-ng, then 16-bit 48 kHz mono with silence."""
    folder = tmp_path_factory.mktemp("voices")

    def make(*sentences: str, lead: float = 1.5, gap: float = 1.0, trail: float = 12.0) -> Path:
        """One WAV of the sentences, `gap` seconds apart: the fake microphone plays it (and loops it)."""
        words = re.sub(r"\W+", "-", " ".join(sentences).lower()).strip("-")[:80]
        name = f"{words}-{lead}-{gap}-{trail}"  # the timing is part of the recording
        wav = folder / f"{name}.wav"
        if wav.exists():
            return wav
        parts = []
        for index, sentence in enumerate(sentences):
            raw, part = folder / f"{name}-{index}-raw.wav", folder / f"{name}-{index}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), sentence], check=True)
            before = lead if index == 0 else gap
            after = trail if index == len(sentences) - 1 else 0
            subprocess.run(
                ["sox", str(raw), "-r", "48000", "-b", "16", "-c", "1", "-e", "signed-integer", str(part),
                 "pad", str(before), str(after)],
                check=True,
            )  # fmt: skip
            parts.append(str(part))
        if len(parts) == 1:
            Path(parts[0]).rename(wav)
        else:
            subprocess.run(["sox", *parts, str(wav)], check=True)
        return wav

    return make


@pytest.fixture
def browser(request, tmp_path):
    """Open a fresh Chromium profile with the given WAV as microphone: browser(wav) -> page."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    contexts = []

    def open_page(microphone: Path | None = None, *, deny_microphone: bool = False):
        flags = list(CHROMIUM_FLAGS)
        if deny_microphone:
            flags.remove("--use-fake-ui-for-media-stream")
            flags.append("--deny-permission-prompts")
        if microphone:
            flags.append(f"--use-file-for-fake-audio-capture={microphone}")
        context = playwright.chromium.launch_persistent_context(
            tmp_path / f"profile-{len(contexts)}",
            executable_path=CHROMIUM,
            headless=False,  # --headless=new is in the flags
            args=flags,
            viewport={"width": 1100, "height": 900},
        )
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)
        page.csp_violations = []
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.add_init_script(INIT_SCRIPT)
        return page

    yield open_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                name = f"{request.node.name}-{index}-{number}"
                page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
                events = page.evaluate("window.__events || []")
                (ARTIFACTS / f"{name}-events.txt").write_text("\n".join(events) + "\n")
    for context in contexts:
        context.close()
    playwright.stop()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def log_in(page, app_url: str, user) -> None:
    """Give the browser a logged-in session for `user` without typing the password."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": app_url}]
    )


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__csp || []") + [
        m for m in page.console_errors if "Content Security Policy" in m
    ]


def received_audio_energy(page) -> float:
    """totalAudioEnergy of the remote audio the page played (0 when nothing was rendered)."""
    return page.evaluate(
        """async () => {
          let energy = 0;
          for (const pc of window.__pcs || []) {
            (await pc.getStats()).forEach(s => {
              if (s.type === 'inbound-rtp' && s.kind === 'audio') energy += s.totalAudioEnergy || 0;
            });
          }
          return energy;
        }"""
    )
