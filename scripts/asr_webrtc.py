"""The full path for `make asr-check --webrtc`: Chromium's fake microphone → WebRTC → the emulator.

One call per (voice, phrasing): the microphone plays every question in turn with pauses between
them; the session only transcribes (`create_response: false`), so nothing is spoken back and no
question is taken for a barge-in. Transcripts are matched to questions by when their speech began.
"""

import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.voice import CHROMIUM, FLAGS, free_port, serve_page
from scripts.asr_check import CACHE, ROOT, Result, Voice, outcome, speech

KEY = "sk-emulator-asr"
LEAD_S, GAP_S, TAIL_S = 1.5, 1.6, 4.0
RATE = 48000
SESSION = {
    "type": "realtime",
    "audio": {
        "input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {"type": "server_vad", "create_response": False},
        }
    },
}
PAGE = """<!doctype html><meta charset="utf-8"><title>asr</title><script>
window.__heard = []; window.__starts = {};
window.listen = async (base, key) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = (window.pc = new RTCPeerConnection());
  pc.addTrack(stream.getAudioTracks()[0]);
  const channel = pc.createDataChannel("oai-events");
  channel.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "input_audio_buffer.speech_started") window.__starts[event.item_id] = event.audio_start_ms;
    if (event.type === "conversation.item.input_audio_transcription.completed")
      window.__heard.push({ start: window.__starts[event.item_id], text: event.transcript });
  };
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await fetch(base + "/v1/realtime/calls", {
    method: "POST", body: pc.localDescription.sdp,
    headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + key },
  });
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
};
</script>"""


def _recording(questions: list[str], voice: Voice, folder: Path) -> tuple[Path, list[float]]:
    """Write one WAV of all questions; return it and when each question starts (seconds), then
    when the recording ends (the fake microphone starts it again)."""
    silence = lambda seconds: bytes(int(seconds * RATE) * 2)  # noqa: E731
    pcm, starts = bytearray(silence(LEAD_S)), []
    for question in questions:
        starts.append(len(pcm) / 2 / RATE)
        pcm += speech(question, voice, rate=RATE, lead=0, tail=0) + silence(GAP_S)
    pcm += silence(TAIL_S)
    starts.append(len(pcm) / 2 / RATE)
    path = folder / f"{voice.name}-{voice.rate}-{abs(hash(tuple(questions)))}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(pcm))
    return path, starts


def _assign(heard: list[dict], starts: list[float]) -> list[str]:
    """Match transcripts to questions by start time (the first transcript is the first question)."""
    *starts, end = starts
    texts = [""] * len(starts)
    if not heard:
        return texts
    offset = heard[0]["start"] / 1000 - starts[0]
    for entry in heard:
        at = entry["start"] / 1000 - offset
        if at >= end - 0.5:
            break  # the microphone plays the recording again
        index = max((i for i, start in enumerate(starts) if start - 0.5 <= at), default=0)
        texts[index] = f"{texts[index]} {entry['text']}".strip()
    return texts


def _one_call(base: str, questions: list[str], voice: Voice, folder: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    wav, starts = _recording(questions, voice, folder)
    duration = starts[-2] + 3 + GAP_S
    key = httpx.post(
        f"{base}/v1/realtime/client_secrets",
        json={"session": SESSION},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()["value"]
    page_url, server = serve_page(PAGE)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=False,
            args=[*FLAGS, f"--use-file-for-fake-audio-capture={wav}"],
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(page_url)
        page.evaluate("([base, key]) => window.listen(base, key)", [base, key])
        deadline = time.monotonic() + duration + 6
        while time.monotonic() < deadline:
            page.wait_for_timeout(1000)
            heard = page.evaluate("window.__heard")
            if heard and heard[-1]["start"] / 1000 - heard[0]["start"] / 1000 > duration - LEAD_S:
                break  # the microphone has looped back to the first question
        page.evaluate("window.pc.close()")  # hang up now, not when ICE consent expires
        context.close()
    server.shutdown()
    return _assign([h for h in heard if h["start"] is not None], starts)


def measure_webrtc(voices, phrasings, cities, parallel: int = 3) -> list[Result]:
    """Ask every city in every phrasing and voice through Chromium and WebRTC."""
    port = free_port()
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--api-key", KEY]
    command += ["--log-level", "INFO"]
    CACHE.mkdir(parents=True, exist_ok=True)
    log = open(CACHE / "emulator.log", "w")  # noqa: SIM115 - open while the emulator runs
    emulator = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert "listening" in emulator.stdout.readline(), "the emulator did not start"
        base = f"http://127.0.0.1:{port}"
        jobs = [(voice, phrasing) for voice in voices for phrasing in phrasings]
        with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(parallel) as pool:
            futures = {
                job: pool.submit(
                    _one_call, base, [job[1].format(city=c) for c in cities], job[0], Path(folder)
                )
                for job in jobs
            }
            results = []
            for (voice, phrasing), future in futures.items():
                future.result()
                if emulator.poll() is not None:
                    raise RuntimeError(f"the emulator exited ({emulator.returncode}); see {log.name}")
                for city, transcript in zip(cities, future.result(), strict=True):
                    results.append(Result(voice, phrasing, city, transcript, outcome(transcript, city)))
        return results
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        log.close()
