"""The offline section of `make bench`: how live a spoken weather question feels against the emulator.

Each run is a fresh Chromium whose fake microphone asks "what is the weather in paris" and a page
that behaves like the talk page's client (mint a key, WebRTC to `/v1/realtime/calls`, run
`get_weather` against the emulator's Open-Meteo, send the output and one `response.create`). The
page timestamps, on one clock: the end of the user's speech (last loud sample of its own
microphone), every data-channel event, the tool run, and the first audible sample of the
assistant's reply (an analyser on the remote track). Medians over the runs, with where the time goes.
"""

import http.server
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.stats import Result

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
KEY = "sk-emulator-bench"
QUESTION = "what is the weather in paris"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
PAGE = """<!doctype html><meta charset="utf-8"><title>voice bench</title><audio id="out" autoplay></audio>
<script>
const TOOL = { type: "function", name: "get_weather", description: "Current weather for a place.",
  parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] } };
const report = { marks: {}, events: [], mic: [], remote: [] };
window.report = () => report;
const mark = (name) => { report.marks[name] ??= performance.now(); };

function loudness(context, stream, into) {
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    if (Math.sqrt(sum / samples.length) > 0.01) into.push(performance.now());
  }, 5);
}

async function getWeather(emulator, location) {
  const search = await (await fetch(`${emulator}/v1/search?name=${encodeURIComponent(location)}&count=1`)).json();
  const place = search.results[0];
  const url = `${emulator}/v1/forecast?latitude=${place.latitude}&longitude=${place.longitude}`;
  const forecast = await (await fetch(url + "&current=temperature_2m,weather_code")).json();
  return { location: place.name, temperature: forecast.current.temperature_2m, weather_code: forecast.current.weather_code };
}

window.runVoice = async (emulator, apiKey) => {
  mark("start");
  const minted = await fetch(`${emulator}/v1/realtime/client_secrets`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ session: { type: "realtime", tools: [TOOL],
      audio: { input: { transcription: { model: "gpt-4o-mini-transcribe" } } } } }),
  });
  const key = (await minted.json()).value;
  mark("minted");
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const context = new AudioContext();
  loudness(context, stream, report.mic);
  const pc = new RTCPeerConnection();
  pc.addTrack(stream.getAudioTracks()[0]);
  pc.ontrack = (event) => {
    document.getElementById("out").srcObject = event.streams[0];
    loudness(context, event.streams[0], report.remote);
  };
  const channel = pc.createDataChannel("oai-events");
  channel.onopen = () => mark("open");
  channel.onmessage = async (message) => {
    const event = JSON.parse(message.data);
    report.events.push([event.type, performance.now()]);
    const calls = event.type === "response.done" ? event.response.output.filter((o) => o.type === "function_call") : [];
    if (!calls.length) return;
    mark("tool_start");
    for (const call of calls) {
      const output = await getWeather(emulator, JSON.parse(call.arguments).location);
      channel.send(JSON.stringify({ type: "conversation.item.create",
        item: { type: "function_call_output", call_id: call.call_id, output: JSON.stringify(output) } }));
    }
    channel.send(JSON.stringify({ type: "response.create" }));
    mark("tool_done");
  };
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await fetch(`${emulator}/v1/realtime/calls`, { method: "POST", body: pc.localDescription.sdp,
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${key}` } });
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
};
</script>"""
# (name, where it starts, where it ends): the phases between the end of speech and the first audio.
PHASES = (
    ("vad_tail", "speech_end", "input_audio_buffer.speech_stopped"),
    ("recognition", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"),
    ("model_to_tool_call", "input_audio_buffer.committed", "response.done"),
    ("tool_round_trip", "response.done", "tool_done"),
    ("answer_synthesis", "tool_done", "output_audio_buffer.started"),
    ("playout", "output_audio_buffer.started", "first_audio"),
)


def serve_page(html: str) -> tuple[str, http.server.ThreadingHTTPServer]:
    """Serve `html` at http://localhost:<port>/ (another origin than the emulator's 127.0.0.1)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://localhost:{server.server_address[1]}/", server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _microphone(folder: Path) -> Path:
    raw, wav = folder / "raw.wav", folder / "question.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), QUESTION], check=True)
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            "48000",
            "-b",
            "16",
            "-c",
            "1",
            "-e",
            "signed-integer",
            str(wav),
            "pad",
            "1.5",
            "20",
        ],
        check=True,
    )
    return wav


def timeline(report: dict) -> dict[str, float]:
    """Moments of one run (ms, page clock): marks, the first of each event, speech end, first audio."""
    moments = dict(report["marks"])
    for kind, at in report["events"]:
        moments.setdefault(kind, at)
    stopped = moments.get("input_audio_buffer.speech_stopped")
    if stopped is None:
        return moments
    moments["speech_end"] = max((t for t in report["mic"] if t < stopped), default=stopped)
    started = moments.get("output_audio_buffer.started")
    if started is not None:
        moments["first_audio"] = min((t for t in report["remote"] if t >= started), default=float("nan"))
    return moments


def _one_run(playwright, page_url: str, emulator: str, wav: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=False,
            args=[*FLAGS, f"--use-file-for-fake-audio-capture={wav}"],
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(page_url)
            page.evaluate("([emulator, key]) => window.runVoice(emulator, key)", [emulator, KEY])
            page.wait_for_function(
                "() => window.report().remote.some(t => t > (window.report().marks.tool_done || Infinity))",
                timeout=30_000,
            )
            return timeline(page.evaluate("window.report()"))
        finally:
            context.close()


def measure(runs: int = 10) -> list[Result]:
    """Run the spoken question `runs` times; return the medians as bench results (ms)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    emulator = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "emulator",
        "--port",
        str(port),
        "--api-key",
        KEY,
        "--log-level",
        "WARNING",
    ]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    timelines = []
    try:
        started = time.monotonic()
        assert "listening" in server.stdout.readline(), "the emulator did not start"
        startup_ms = 1000 * (time.monotonic() - started)
        recognizer_ms: list[float] = []  # its worker builds the decoders after the ready line

        def await_recognizer() -> None:
            if "speech recognition ready" in server.stdout.readline():
                recognizer_ms.append(1000 * (time.monotonic() - started))

        threading.Thread(target=await_recognizer, daemon=True).start()
        with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
            wav = _microphone(Path(folder))
            page_url, page_server = serve_page(PAGE)
            for _ in range(runs):
                timelines.append(_one_run(playwright, page_url, emulator, wav))
            page_server.shutdown()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return summarize(timelines, startup_ms, recognizer_ms[0] if recognizer_ms else None)


def _median(timelines: list[dict], start: str, end: str) -> float | None:
    spans = [t[end] - t[start] for t in timelines if start in t and end in t and t[end] == t[end]]
    return statistics.median(spans) if spans else None


def summarize(timelines: list[dict], startup_ms: float, recognizer_ms: float | None = None) -> list[Result]:
    """Medians of the runs: end of speech → first audio, Start → data channel open, the phases."""
    n = len(timelines)
    results = [
        Result(
            "voice_speech_end_to_audio",
            _median(timelines, "speech_end", "first_audio"),
            None,
            "ms",
            note=f"median of {n} runs, aim <= 1500 ms; phases below",
        ),
        Result(
            "voice_start_to_open", _median(timelines, "start", "open"), None, "ms", note=f"median of {n} runs"
        ),
        Result("voice_start_to_minted", _median(timelines, "start", "minted"), None, "ms"),
    ]
    results += [Result(f"voice_{name}", _median(timelines, a, b), None, "ms") for name, a, b in PHASES]
    results.append(
        Result("voice_emulator_startup", startup_ms, None, "ms", note="process start to ready line")
    )
    results.append(
        Result(
            "voice_recognizer_ready",
            recognizer_ms,
            None,
            "ms",
            note="process start to its speech recognition ready (speech sent earlier waits for it)",
        )
    )
    return results
