"""The session timeline and the assistant's voice: speech on the track with timed transcript fragments."""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from .. import speech_out
from ..ids import new_id
from ..knobs import Knobs

# Words per transcript fragment: user speech streams in small pieces, the voice in phrases.
INPUT_FRAGMENT_WORDS = 3
OUTPUT_FRAGMENT_WORDS = 6


class Timeline:
    """Milliseconds since the session started; after `reset()` the next timed event starts at 0."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.heard_until = 0
        self._shift_ms = 0
        self._reset_pending = False

    def clock_ms(self) -> int:
        """The session clock, never before the end of the speech last heard.

        Audio fed faster than real time (tests) must not make an answer start before its question
        ended.
        """
        return max(self.heard_until, int((time.monotonic() - self.started) * 1000))

    def at(self, clock_ms: int) -> int:
        """The timeline position of a session clock time."""
        if self._reset_pending:
            self._reset_pending = False
            self._shift_ms = clock_ms
        return max(0, clock_ms - self._shift_ms)

    def now(self) -> int:
        """The timeline position now."""
        return self.at(self.clock_ms())

    def reset(self) -> None:
        """Restart the timeline at the next timed event (as after an engine replacement)."""
        self._reset_pending = True


def fragments(
    deliver: Callable[[dict], None],
    type: str,
    parts: list[str],
    start_ms: int,
    end_ms: int,
    *,
    duplicate: bool = False,
) -> None:
    """Deliver transcript events, one per part, spread over [start_ms, end_ms) by length."""
    total = sum(map(len, parts))
    position = start_ms
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        share = sum(map(len, parts[: index + 1])) / total
        end = max(position, end_ms if last else start_ms + int((end_ms - start_ms) * share))
        event = {
            "type": type,
            "event_id": new_id("event"),
            "delta": part,
            "start_ms": position,
            "end_ms": end,
        }
        deliver(event)
        if duplicate:
            deliver(dict(event))  # a redelivery: the same event_id
        position = end


def pieces(text: str, size: int) -> list[str]:
    """Cut text into even fragments of at most `size` words; later fragments keep their space."""
    words = text.split(" ")
    count = math.ceil(len(words) / size)
    bounds = [round(i * len(words) / count) for i in range(count + 1)]
    parts = [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return [part if index == 0 else f" {part}" for index, part in enumerate(parts)]


class Voice:
    """Says one thing at a time on the speaker track, each phrase announced as it starts playing."""

    def __init__(
        self,
        *,
        speaker: speech_out.Speaker,
        synthesize: Callable[..., Awaitable[bytes]],
        timeline: Timeline,
        deliver: Callable[[dict], None],
        knobs: Knobs,
        voice: str,
    ) -> None:
        self.speaker = speaker
        self.synthesize = synthesize
        self.timeline = timeline
        self.deliver = deliver
        self.knobs = knobs
        self.voice = voice
        self._turn = asyncio.Lock()
        self._playback: speech_out.Playback | None = None

    async def say(self, text: str, started: asyncio.Event | None = None) -> None:
        """Speak `text` after anything already being said; set `started` once its first words are out."""
        try:
            async with self._turn:
                await self._speak(text, started)
                if self.knobs.live_timeline_reset:
                    self.timeline.reset()
        finally:
            if started:
                started.set()

    async def _speak(self, text: str, started: asyncio.Event | None) -> None:
        playback = self._playback = self.speaker.play(await self.synthesize(text, voice=self.voice))
        start, duration = self.timeline.now(), max(1, playback.duration_ms)
        parts = pieces(text, OUTPUT_FRAGMENT_WORDS)
        offset = 0
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            share = duration - offset if last else duration * len(part) // len(text)
            fragments(
                self.deliver,
                "session.output_transcript.delta",
                [part],
                start + offset,
                start + offset + share,
                duplicate=self.knobs.live_duplicate_transcripts,
            )
            if started:
                started.set()
            offset += share
            if not last and await _cleared_within(playback, share / 1000):
                return
        await playback.done

    def stop(self) -> None:
        """Cut the speech in progress (the user spoke over it, or was told to stop)."""
        if self._playback is not None and not self._playback.done.done():
            self.speaker.clear()


async def _cleared_within(playback: speech_out.Playback, seconds: float) -> bool:
    """Wait `seconds` of playback; return True if the audio was cleared meanwhile."""
    try:
        played = await asyncio.wait_for(asyncio.shield(playback.done), timeout=seconds)
    except TimeoutError:
        return False
    return played is False
