"""The assistant's voice: espeak-ng + sox synthesis and a real-time paced aiortc audio track."""

import asyncio
import fractions
import subprocess
import time

import av
import numpy as np
from aiortc import MediaStreamTrack

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
# espeak-ng variants standing in for the upstream voices, so voices are audibly distinct.
_VARIANTS = {"marin": "f3", "coral": "f2", "sage": "f4", "shimmer": "f5", "ballad": "m2", "cedar": "m3"}


async def synthesize(text: str, *, voice: str = "alloy", speed: float = 1.0) -> bytes:
    """Speak `text` with espeak-ng; return 48 kHz mono s16 PCM."""
    variant = _VARIANTS.get(voice)
    espeak = await asyncio.create_subprocess_exec(
        "espeak-ng",
        "-v",
        f"en-us+{variant}" if variant else "en-us",
        "-s",
        str(int(170 * speed)),
        "--stdout",
        text,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    wav, _ = await espeak.communicate()
    sox = await asyncio.create_subprocess_exec(
        *("sox", "-t", "wav", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-b", "16", "-c", "1"),
        *("-e", "signed-integer", "-"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    pcm, _ = await sox.communicate(wav)
    return pcm


def speak_as_user(
    text: str,
    *,
    voice: str = "en-us",
    wpm: int = 150,
    rate: int = 16000,
    lead: float = 0.5,
    tail: float = 1.0,
) -> bytes:
    """A person saying `text` (espeak-ng `voice` at `wpm`) as raw mono s16 PCM at `rate`, padded with
    `lead` and `tail` seconds of silence: the input side of the tests and of `make asr-check`."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text], capture_output=True, check=True
    ).stdout
    return subprocess.run(
        ["sox", "-D", "-t", "wav", "-", "-t", "raw", "-r", str(rate), "-b", "16", "-c", "1"]
        + ["-e", "signed-integer", "-", "pad", str(lead), str(tail)],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout


class Playback:
    """One clip on the speaker; `done` resolves True when played out, False when cleared."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.started = time.monotonic()
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.offset = 0
        self._timer = asyncio.get_running_loop().call_later(self.duration_ms / 1000, self._finish)

    @property
    def duration_ms(self) -> int:
        """Length of the clip."""
        return len(self.pcm) // BYTES_PER_MS

    @property
    def played_ms(self) -> int:
        """How much of the clip has been played so far."""
        return min(self.duration_ms, int((time.monotonic() - self.started) * 1000))

    def cut(self, at_ms: int) -> None:
        """End the clip at `at_ms` (a cancelled response keeps only what it generated)."""
        self.pcm = self.pcm[: max(at_ms, self.played_ms) * BYTES_PER_MS]
        self._timer.cancel()
        remaining = self.duration_ms - self.played_ms
        self._timer = asyncio.get_running_loop().call_later(remaining / 1000, self._finish)

    def stop(self) -> None:
        """Drop the rest of the clip."""
        self._timer.cancel()
        if not self.done.done():
            self.done.set_result(False)

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(True)


class Speaker(MediaStreamTrack):
    """Audio track sending the current clip in 20 ms frames, paced in real time; silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.playback: Playback | None = None
        self._start: float | None = None
        self._pts = 0

    def play(self, pcm: bytes) -> Playback:
        """Start playing `pcm` (48 kHz mono s16) now, replacing anything still playing."""
        self.clear()
        self.playback = Playback(pcm)
        return self.playback

    def clear(self) -> None:
        """Stop the current clip, if any."""
        if self.playback is not None:
            self.playback.stop()
            self.playback = None

    @property
    def playing(self) -> bool:
        """Whether a clip is playing."""
        return self.playback is not None and not self.playback.done.done()

    async def recv(self) -> av.AudioFrame:
        """Return the next 20 ms frame, at the pace of a real microphone."""
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            delay = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(self._next_chunk(), dtype=np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame

    def _next_chunk(self) -> bytes:
        size = FRAME_SAMPLES * 2
        playback = self.playback
        if playback is None or playback.done.done():
            return bytes(size)
        # The clip's clock is wall time; skip ahead if frames were not pulled (not yet connected).
        wall = playback.played_ms * BYTES_PER_MS
        if playback.offset < wall - 100 * BYTES_PER_MS:
            playback.offset = wall - wall % 2
        chunk = playback.pcm[playback.offset : playback.offset + size]
        playback.offset += size
        return chunk + bytes(size - len(chunk))
