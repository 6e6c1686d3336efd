"""WebRTC side of calls: aiortc peer connection, `oai-events` data channel, mic in, speaker out."""

import asyncio
import json
import logging
from collections.abc import Callable

import aioice.ice
import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError

from . import network
from .ids import new_hex_id
from .knobs import Knobs
from .session import Session
from .speech_in import BYTES_PER_MS, SAMPLE_RATE, Recognizer
from .speech_out import Speaker

logger = logging.getLogger(__name__)


def use_loopback_only() -> None:
    """Make aioice offer 127.0.0.1, which it skips by default (docs/offline-testing.md)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


class Call:
    """One WebRTC call: a peer connection wired to a Session."""

    def __init__(
        self,
        config: dict,
        *,
        recognizer: Recognizer,
        knobs: Knobs,
        on_closed: Callable[["Call"], None],
        synthesize: Callable | None = None,
        session_class: type = Session,
        call_id: str | None = None,
    ) -> None:
        self.id = call_id or new_hex_id("rtc")
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.speaker = Speaker()
        self._channel = None
        self._queue: list[str] = []
        self._on_closed = on_closed
        self._closing = False
        self._reader: asyncio.Task | None = None
        extra = {"synthesize": synthesize} if synthesize else {}
        # Session (Realtime) or LiveSession (GPT-Live): same constructor and methods.
        self.session = session_class(
            config,
            emit=self._send,
            speaker=self.speaker,
            recognizer=recognizer,
            knobs=knobs,
            on_close=lambda: asyncio.ensure_future(self.close(delay=0.2)),
            **extra,
        )
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer: str) -> str:
        """Apply the SDP offer and return the complete SDP answer (no trickle ICE)."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        self.pc.addTrack(self.speaker)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.session.start()
        return self.pc.localDescription.sdp

    async def close(self, delay: float = 0.0, mode: str = "close") -> None:
        """Hang up: stop the session and the peer connection (`mode` as in `network.drop`)."""
        if self._closing:
            return
        self._closing = True
        if delay:
            # Give the data channel time to deliver a final `error` event.
            await asyncio.sleep(delay)
        self.session.close()
        if self._reader:
            self._reader.cancel()
        await network.drop(self.pc, mode)
        self._on_closed(self)

    def _send(self, event: dict) -> None:
        text = json.dumps(event)
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(text)
        else:
            self._queue.append(text)

    def _on_datachannel(self, channel) -> None:
        if channel.label != "oai-events":
            logger.warning("ignoring data channel %r", channel.label)
            return
        self._channel = channel
        channel.on("message", self._on_message)
        if channel.readyState == "open":
            self._flush()
        else:
            channel.on("open", self._flush)

    def _flush(self) -> None:
        queued, self._queue = self._queue, []
        for text in queued:
            self._channel.send(text)

    def _on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        self.session.handle(message)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._reader is None:
            _hear_without_prefetch(self.pc, track)
            self._reader = asyncio.ensure_future(self._read_microphone(track))

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        # Remote frames are 48 kHz stereo whatever the source; the recogniser wants 16 kHz mono.
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        timeline = MicrophoneTimeline()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if missing := timeline.missing_ms(frame):
                logger.info("call %s: %d ms of microphone audio lost, counted as silence", self.id, missing)
                self.session.feed_audio(bytes(missing * BYTES_PER_MS))
            for chunk in resampler.resample(frame):
                self.session.feed_audio(chunk.to_ndarray().tobytes())

    async def _on_state(self) -> None:
        logger.info("call %s connection %s", self.id, self.pc.connectionState)
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()


class MicrophoneTimeline:
    """Follows the caller's audio on its own clock, the frames' RTP timestamps.

    Frames lost on the way (a dropped packet, a receive buffer that overflowed while the machine
    was busy) would otherwise just be absent: the pause between two questions shrank until the
    endpointer heard one utterance ("lima and dublin and lisbon").
    """

    RTP_WRAP = 1 << 32
    MAX_GAP_MS = 60_000  # a longer jump is a new timeline (the sender restarted), not a loss

    def __init__(self) -> None:
        self._next: int | None = None

    def missing_ms(self, frame: av.AudioFrame) -> int:
        """How much audio is missing before `frame` (ms), and remember where the next one starts."""
        if frame.pts is None or not frame.time_base:
            return 0
        expected, self._next = (
            self._next,
            frame.pts + round(frame.samples / frame.sample_rate / frame.time_base),
        )
        if expected is None:
            return 0
        ahead = (frame.pts - expected) % self.RTP_WRAP
        missing = round(ahead * frame.time_base * 1000)
        return missing if 0 < missing <= self.MAX_GAP_MS else 0


def _hear_without_prefetch(pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
    """aiortc holds each microphone packet until four more have arrived (80 ms), against network
    jitter the loopback does not have: release each one as soon as the next arrives instead."""
    for receiver in pc.getReceivers():
        if receiver.track is track:
            receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=1)


class Calls:
    """Registry of live calls."""

    def __init__(self, *, recognizer: Recognizer, knobs: Knobs, synthesize=None) -> None:
        self.recognizer = recognizer
        self.knobs = knobs
        self.synthesize = synthesize
        self.live: dict[str, Call] = {}

    def create(self, config: dict, *, session_class: type = Session, call_id: str | None = None) -> Call:
        """Create a call for a session config (not yet answered)."""
        call = Call(
            config,
            recognizer=self.recognizer,
            knobs=self.knobs,
            on_closed=lambda c: self.live.pop(c.id, None),
            synthesize=self.synthesize,
            session_class=session_class,
            call_id=call_id,
        )
        self.live[call.id] = call
        return call

    async def close_all(self) -> None:
        """Hang up every call (server shutdown)."""
        await asyncio.gather(*(call.close() for call in list(self.live.values())))
