"""State machine of one GPT-Live session: client commands and caller audio in, server events out."""

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable

from .. import model, speech_out
from ..errors import ApiError, invalid_value
from ..ids import new_id
from ..knobs import Knobs
from ..speech_in import Listener, Recognizer, Stream
from . import config
from .backend import Backend, Turn
from .voice import INPUT_FRAGMENT_WORDS, Timeline, Voice, fragments, pieces

logger = logging.getLogger(__name__)

ACKNOWLEDGEMENT = "Let me check that for you."
_STOP = re.compile(r"\b(stop|quiet|silence)\b", re.IGNORECASE)
_UNSUPPORTED = {
    "session.start": "session.start is only sent on a Live WebSocket; this WebRTC session already "
    "started with POST /v1/live/sessions.",
    "session.input_audio.append": "session.input_audio.append is not accepted on WebRTC: the "
    "microphone track carries the audio.",
    "session.output_audio.fixture.play": "Audio fixtures are not supported on the WebRTC data channel.",
}


class LiveSession:
    """One live session; emits server events (dicts) through `emit`.

    Plugs into `emulator.calls.Call` like the Realtime `Session` (same constructor and methods), so
    both upstreams share the WebRTC plumbing, the recogniser and the speaker track.
    """

    def __init__(
        self,
        resource: dict,
        *,
        emit: Callable[[dict], None],
        speaker: speech_out.Speaker,
        recognizer: Recognizer,
        knobs: Knobs,
        synthesize: Callable[..., Awaitable[bytes]] = speech_out.synthesize,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.resource = copy.deepcopy(resource)
        self.knobs = knobs
        self.speaker = speaker
        self.recognizer = recognizer
        self.backend = Backend(self._responses_config())
        self.timeline = Timeline()
        voice = self.resource["audio"]["output"]["voice"]
        self.voice = Voice(
            speaker=speaker,
            synthesize=synthesize,
            timeline=self.timeline,
            deliver=self._deliver,
            knobs=knobs,
            voice=voice if isinstance(voice, str) else config.DEFAULT_VOICE,  # custom voices: default
        )
        self.closed = False
        self._send = emit
        self._on_close = on_close
        self._listener = Listener(streaming=True)
        self._hearing: Stream | None = None  # the utterance being decoded while it is spoken
        self._audio_origin_ms: int | None = None
        self._utterance_start = 0
        self._muted = False
        self._ending = False
        self._pending_delegation: str | None = None
        self._client_delegations: set[str] = set()
        self._acknowledgements: set[asyncio.Task] = set()
        self._tasks: set[asyncio.Task] = set()
        self._timers: list[asyncio.TimerHandle] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Send `info` (restricted channel) and `session.started`; arm the timers."""
        channel = (self.resource.get("client") or {}).get("data_channel")
        if channel and channel != {"allowed_client_events": "all", "allowed_server_events": "all"}:
            self.emit(
                "info",
                code="data_channel_permissions",
                message="The frontend data channel is configured with restricted event permissions.",
            )
        self.emit("session.started", session=self.resource)
        loop = asyncio.get_running_loop()
        self._timers.append(
            loop.call_later(max(0.0, self.resource["expires_at"] - time.time()), self._end, "expired")
        )
        if self.knobs.live_error_after > 0:
            self._timers.append(loop.call_later(self.knobs.live_error_after, self._server_error))
        if self.knobs.live_connection_lost_after > 0:
            self._timers.append(loop.call_later(self.knobs.live_connection_lost_after, self._lose_connection))
        self._spawn(self._report_usage())

    def close(self) -> None:
        """Stop timers, tasks and audio; no events are sent afterwards."""
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._hearing is not None:
            self._hearing.cancel()
        self.speaker.clear()

    def _end(self, reason: str, client_event_id: str | None = None) -> None:
        """Finish the session: stop talking, send `session.closed`, then hang up."""
        if self._ending or self.closed:
            return
        self._ending = True
        for task in list(self._tasks):
            task.cancel()
        self.speaker.clear()
        self.emit(
            "session.closed",
            reason=reason,
            session=self.resource,
            usage=self.usage(),
            **({"client_event_id": client_event_id} if client_event_id else {}),
        )
        self.closed = True
        self._on_close()

    def _lose_connection(self) -> None:
        # The knob's network failure: the peer goes away without `session.closed`.
        self.closed = True
        self._on_close()

    def _server_error(self) -> None:
        self.emit(
            "error",
            error={
                "type": "server_error",
                "code": "server_error",
                "message": "The server had an error while processing your request. Sorry about that!",
            },
        )

    def usage(self) -> dict:
        """Cumulative billable seconds: the prepaid initialisation counts until it is used up."""
        elapsed = int(time.monotonic() - self.timeline.started)
        seconds = max(int(self.knobs.live_prepaid_seconds), elapsed)
        return {"seconds": seconds, "active_seconds": seconds, "paused_seconds": 0}

    async def _report_usage(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, self.knobs.live_usage_interval))
            elapsed = time.monotonic() - self.timeline.started
            ratio = round(min(0.9, 0.01 + elapsed / 3600), 4)
            self.emit("session.usage.updated", usage=self.usage(), context_window={"usage_ratio": ratio})

    # -- events out ------------------------------------------------------------------------

    def emit(self, type: str, **fields: object) -> None:
        """Send one server event with a fresh `event_id`, if the data channel may receive it."""
        event = copy.deepcopy({"type": type, "event_id": new_id("event"), **fields})
        self._deliver(event)

    def _deliver(self, event: dict) -> None:
        if not self.closed and self._allowed(event):
            self._send(event)

    def _allowed(self, event: dict) -> bool:
        channel = (self.resource.get("client") or {}).get("data_channel") or {}
        selectors = channel.get("allowed_server_events", "all")
        if selectors == "all" or event["type"] == "info":
            return True
        for selector in selectors:
            if selector["type"] != event["type"]:
                continue
            if event["type"] != "response.event" or selector.get("response_event") == event["event"]["type"]:
                return True
        return False

    def _spawn(self, coroutine: Awaitable) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("live session task failed", exc_info=task.exception())

    def _error(self, error: ApiError, client_event_id: str | None) -> None:
        body = {"type": error.type, "code": error.code or "invalid_request_error", "message": error.message}
        if error.param:
            body["param"] = error.param
        if client_event_id:
            body["client_event_id"] = client_event_id
        self.emit("error", error=body)

    # -- client commands -------------------------------------------------------------------

    def handle(self, message: str) -> None:
        """Handle one data-channel message (a JSON client command)."""
        if self.closed or self._ending:
            return
        try:
            event = json.loads(message)
        except ValueError as exc:
            self._error(ApiError(f"Invalid JSON in client event: {exc}.", code="invalid_json"), None)
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self._error(ApiError("The 'type' field is missing.", code="invalid_event"), None)
            return
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        try:
            config.parse_command(event)
            self._check_permission(event["type"])
            if event["type"] in _UNSUPPORTED:
                raise ApiError(_UNSUPPORTED[event["type"]], code="unsupported_event", param="type")
            handler = getattr(self, "_on_" + event["type"].replace(".", "_"), None)
            if handler is None:
                raise ApiError(
                    f"'{event['type']}' needs Decisions delegation or triggers, which the emulator "
                    "does not implement.",
                    code="unsupported_event",
                    param="type",
                )
            handler(event, event_id)
        except ApiError as error:
            self._error(error, event_id)

    def _check_permission(self, type: str) -> None:
        channel = (self.resource.get("client") or {}).get("data_channel") or {}
        allowed = channel.get("allowed_client_events", "all")
        if allowed != "all" and type not in allowed:
            raise ApiError(
                f"The frontend data channel is not allowed to send '{type}'.",
                code="client_event_not_allowed",
                param="type",
            )

    def _on_session_update(self, event: dict, event_id: str | None) -> None:
        self.resource = config.apply_update(self.resource, event["session"])
        self.backend.config = self._responses_config()
        self.emit("session.updated", session=self.resource, **_ack(event_id))

    def _on_session_close(self, event: dict, event_id: str | None) -> None:
        self._end("close_requested", event_id)

    def _on_session_input_audio_mute(self, event: dict, event_id: str | None) -> None:
        self._muted = True
        self.emit("session.input_audio.muted", **_ack(event_id))

    def _on_session_input_audio_unmute(self, event: dict, event_id: str | None) -> None:
        self._muted = False
        self.emit("session.input_audio.unmuted", **_ack(event_id))

    def _on_session_instructions_append(self, event: dict, event_id: str | None) -> None:
        self._append(event, event_id, "instructions")
        if _STOP.search(event["content"]):
            self.voice.stop()

    def _on_session_thinking_append(self, event: dict, event_id: str | None) -> None:
        self._append(event, event_id, "thinking")

    def _on_session_commentary_append(self, event: dict, event_id: str | None) -> None:
        self._append(event, event_id, "commentary")
        self._spawn(self.voice.say(event["content"]))

    def _append(self, event: dict, event_id: str | None, kind: str) -> None:
        delegation_id = event["delegation_id"]
        if delegation_id is not None and delegation_id not in self._client_delegations:
            raise invalid_value(
                "delegation_id",
                f"Unknown client delegation '{delegation_id}'. Use null, or the id of a client "
                "delegation from session.delegation.created.",
            )
        for task in self._acknowledgements:
            task.cancel()  # appended context replaces any pending spoken acknowledgement
        now = self.timeline.now()
        self.emit(f"session.{kind}.appended", start_ms=now, end_ms=now, **_ack(event_id))

    def _on_response_item_create(self, event: dict, event_id: str | None) -> None:
        self._require_responses()
        self.backend.add_item(event["item"])

    def _on_response_create(self, event: dict, event_id: str | None) -> None:
        self._require_responses()
        delegation_id = self._pending_delegation if self.backend.pending else None
        turn = self.backend.respond(delegation_id)
        self._pending_delegation = delegation_id if turn.calls else None
        self._spawn(self._backend_turn(turn, delegation_id, event_id))

    def _require_responses(self) -> None:
        if self.resource["delegation"]["type"] != "responses":
            raise ApiError(
                "response.item.create and response.create need Responses delegation "
                "(session.delegation.type 'responses').",
                code="responses_delegation_required",
                param="type",
            )

    # -- caller audio ----------------------------------------------------------------------

    def feed_audio(self, pcm: bytes) -> None:
        """Take 16 kHz mono s16 caller audio; a muted microphone reaches the model as silence."""
        if self.closed:
            return
        if self._audio_origin_ms is None:
            self._audio_origin_ms = self.timeline.clock_ms()
        for kind, ms, speech in self._listener.feed(bytes(len(pcm)) if self._muted else pcm):
            if kind == "start":
                self._utterance_start = ms
                if self._hearing is not None:
                    self._hearing.cancel()
                self._hearing = self.recognizer.stream()
                # Full duplex: the model stops talking when the user starts.
                self.voice.stop()
            elif kind == "speech":
                if self._hearing is not None:
                    self._hearing.hear(speech)
            else:
                start, end = self._audio_ms(self._utterance_start), self._audio_ms(ms)
                heard = self._hearing.finish(speech) if self._hearing is not None else None
                self._hearing = None
                self._spawn(self._hear(speech, start, end, heard))

    def _audio_ms(self, stream_ms: int) -> int:
        """Session clock time of a position in the microphone stream."""
        return self._audio_origin_ms + stream_ms

    async def _hear(self, pcm: bytes, start_ms: int, end_ms: int, heard: Awaitable[str] | None) -> None:
        text = await (heard if heard is not None else self.recognizer.transcribe(pcm))
        if not text:
            return
        end_ms = max(end_ms, start_ms + 1)
        self.timeline.heard_until = max(self.timeline.heard_until, end_ms)
        start = self.timeline.at(start_ms)
        fragments(
            self._deliver,
            "session.input_transcript.delta",
            pieces(text, INPUT_FRAGMENT_WORDS),
            start,
            start + end_ms - start_ms,
            duplicate=self.knobs.live_duplicate_transcripts,
        )
        await self._react(text)

    async def _react(self, text: str) -> None:
        delegation = self.resource["delegation"]
        places = model.places_in(text)
        if places and delegation["type"] == "responses":
            self.backend.add_user_text(text)
            await self._delegate(lambda d: self.backend.respond(d, continuing=False), delegation)
        elif places and delegation["type"] == "client":
            await self._delegate(None, delegation)
        else:
            reply = model.plan([_user_item(text)], [], "none").text
            await self.voice.say(reply)

    async def _delegate(self, respond: Callable[[str], Turn] | None, delegation: dict) -> None:
        delegation_id = new_id("item")
        turn = respond(delegation_id) if respond else None
        target = {"target": "responses", "response_id": turn.response_id} if turn else {"target": "client"}
        if turn is None:
            self._client_delegations.add(delegation_id)
        self.emit(
            "session.delegation.created",
            offset_ms=self.timeline.now(),
            delegation={"id": delegation_id, "type": "delegation", **target},
        )
        acknowledged = asyncio.Event()
        task = self._spawn(self._acknowledge(delegation["acknowledgement_delay_ms"], acknowledged))
        self._acknowledgements.add(task)
        task.add_done_callback(lambda t: (self._acknowledgements.discard(t), acknowledged.set()))
        await acknowledged.wait()
        if turn is not None:
            self._pending_delegation = delegation_id if turn.calls else None
            await self._backend_turn(turn, delegation_id, None)

    async def _acknowledge(self, delay_ms: int, spoken: asyncio.Event) -> None:
        await asyncio.sleep(delay_ms / 1000)
        await self.voice.say(ACKNOWLEDGEMENT, started=spoken)

    async def _backend_turn(self, turn: Turn, delegation_id: str | None, event_id: str | None) -> None:
        for nested in turn.events:
            self.emit("response.event", delegation_id=delegation_id, event=nested, **_ack(event_id))
        if turn.spoken:
            await self.voice.say(turn.spoken)

    def _responses_config(self) -> dict:
        delegation = self.resource["delegation"]
        return delegation.get("responses") or {"model": "none"}


def _ack(event_id: str | None) -> dict:
    return {"client_event_id": event_id} if event_id else {}


def _user_item(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
