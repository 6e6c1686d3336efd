"""State machine of one realtime session: client events and caller audio in, server events out."""

import asyncio
import base64
import copy
import json
import logging
import time
from collections.abc import Awaitable, Callable

import numpy as np

from . import session_config, speech_out
from .errors import ApiError, invalid_type, invalid_value, missing_parameter, unknown_parameter
from .ids import new_id
from .knobs import Knobs
from .response import USER_AUDIO_TOKENS_PER_S, Response
from .speech_in import SAMPLE_RATE, Listener, Recognizer, Stream, trim_silence

logger = logging.getLogger(__name__)

BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
MAX_INPUT_MS = 60_000
RESPONSE_PARAMS = (
    "audio", "conversation", "input", "instructions", "max_output_tokens", "metadata",
    "output_modalities", "parallel_tool_calls", "prompt", "reasoning", "tool_choice", "tools",
)  # fmt: skip
USER_CONTENT = ("input_text", "input_audio", "input_image")


class Session:
    """One call's conversation; emits server events (dicts) through `emit`."""

    def __init__(
        self,
        config: dict,
        *,
        emit: Callable[[dict], None],
        speaker: speech_out.Speaker,
        recognizer: Recognizer,
        knobs: Knobs,
        synthesize: Callable[..., Awaitable[bytes]] = speech_out.synthesize,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = copy.deepcopy(config)
        self.config["expires_at"] = int(time.time() + knobs.session_limit)
        self.knobs = knobs
        self.speaker = speaker
        self.recognizer = recognizer
        self.synthesize = synthesize
        self.conversation_id = new_id("conv")
        self.items: list[dict] = []
        self.audio_lengths: dict[str, int] = {}
        self.cached_tokens = 0
        self.response: Response | None = None
        self._send = emit
        self._on_close = on_close
        self._heard: dict[str, str] = {}
        self._pending_transcriptions: list[tuple[str, str, int]] = []
        self._playing: tuple[Response, str, speech_out.Playback] | None = None
        self._last_response_id: str | None = None
        self._listener = Listener(streaming=True)
        self._input = bytearray()
        self._utterance_item: str | None = None
        self._hearing: Stream | None = None  # the utterance being decoded while it is spoken
        self._ignoring = False
        self._tasks: set[asyncio.Task] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._tokens_left = 40_000
        self.closed = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Send `session.created` and arm the session time limit."""
        self.emit("session.created", session=self.config)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.knobs.session_limit, self._expire)

    def _expire(self) -> None:
        limit = self.knobs.session_limit / 60
        minutes = f"{limit:g}" if limit != int(limit) else str(int(limit))
        self._error(
            ApiError(
                f"Your session hit the maximum duration of {minutes} minutes.",
                code="session_expired",
            )
        )
        self._on_close()

    def close(self) -> None:
        """Stop timers, tasks and audio; no events are sent afterwards."""
        self.closed = True
        if self._timer:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        self._stop_hearing()
        self.speaker.clear()

    def emit(self, type: str, **fields: object) -> None:
        """Send one server event with a fresh `event_id`."""
        if not self.closed:
            # A snapshot: items keep changing after they were announced.
            self._send(copy.deepcopy({"type": type, "event_id": new_id("event"), **fields}))

    def _spawn(self, coroutine: Awaitable) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("session task failed", exc_info=task.exception())

    def _error(self, error: ApiError, event_id: str | None = None) -> None:
        self.emit("error", error={**error.as_dict(), "event_id": event_id})

    # -- client events ---------------------------------------------------------------------

    def handle(self, message: str) -> None:
        """Handle one data-channel message (a JSON client event)."""
        try:
            event = json.loads(message)
        except ValueError as exc:
            self._error(ApiError(f"Invalid JSON in client event: {exc}.", code="invalid_json"))
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self._error(ApiError("The 'type' field is missing.", code="invalid_event"))
            return
        event_id = event.get("event_id")
        handler = getattr(self, "_on_" + event["type"].replace(".", "_"), None)
        try:
            if handler is None:
                raise invalid_value(
                    "type",
                    f"Invalid value: '{event['type']}'. Supported values are: "
                    + ", ".join(f"'{name}'" for name in _CLIENT_EVENTS)
                    + ".",
                )
            handler(event)
        except ApiError as error:
            self._error(error, event_id if isinstance(event_id, str) else None)

    def _on_session_update(self, event: dict) -> None:
        if "session" not in event:
            raise missing_parameter("session")
        update = session_config.validate(event["session"])
        # Upstream fixes the model when the session is created and ignores a different one here
        # (OpenAI's own SDK sends its default model in every update): see emulator/README.md.
        update = {key: value for key, value in update.items() if key != "model"}
        voice = update.get("audio", {}).get("output", {}).get("voice")
        if voice and voice != self.config["audio"]["output"]["voice"] and self._spoke:
            raise ApiError(
                "Cannot update a conversation's voice if assistant audio is present.",
                code="cannot_update_voice",
                param="session.audio.output.voice",
            )
        expires_at = self.config["expires_at"]
        self.config = session_config.apply(self.config, update)
        self.config["expires_at"] = expires_at
        self.emit("session.updated", session=self.config)

    @property
    def _spoke(self) -> bool:
        return any(i.get("role") == "assistant" and i["id"] in self.audio_lengths for i in self.items)

    def _on_conversation_item_create(self, event: dict) -> None:
        item = _normalise_item(event.get("item"))
        if any(existing["id"] == item["id"] for existing in self.items):
            raise invalid_value("item.id", f"Item with id '{item['id']}' already exists.")
        previous = event.get("previous_item_id")
        if previous is None:
            self.items.append(item)
        elif previous == "root":
            self.items.insert(0, item)
        else:
            index = self._index(previous, "previous_item_id")
            self.items.insert(index + 1, item)
        self.emit("conversation.item.added", previous_item_id=self.previous_id(item["id"]), item=item)
        self.emit("conversation.item.done", previous_item_id=self.previous_id(item["id"]), item=item)

    def _on_conversation_item_delete(self, event: dict) -> None:
        index = self._index(event.get("item_id"), "item_id")
        del self.items[index]
        self.emit("conversation.item.deleted", item_id=event["item_id"])

    def _on_conversation_item_retrieve(self, event: dict) -> None:
        item = self.items[self._index(event.get("item_id"), "item_id")]
        self.emit("conversation.item.retrieved", item=item)

    def _on_conversation_item_truncate(self, event: dict) -> None:
        item = self.items[self._index(event.get("item_id"), "item_id")]
        end = event.get("audio_end_ms")
        if isinstance(end, bool) or not isinstance(end, int) or end < 0:
            raise invalid_type("audio_end_ms", "a non-negative integer", end)
        if event.get("content_index", 0) != 0:
            raise invalid_value("content_index", "Only content_index 0 can be truncated.")
        if item.get("role") != "assistant" or item["id"] not in self.audio_lengths:
            raise invalid_value("item_id", "Only assistant messages with audio can be truncated.")
        length = self.audio_lengths[item["id"]]
        if end > length:
            raise invalid_value(
                "audio_end_ms", f"Audio content of {length}ms is already shorter than {end}ms"
            )
        self._truncate(item, end)

    def _truncate(self, item: dict, end_ms: int) -> None:
        # Upstream drops the server-side transcript of a truncated item.
        self.audio_lengths[item["id"]] = end_ms
        item["content"] = [{"type": "output_audio", "transcript": ""}]
        self.emit("conversation.item.truncated", item_id=item["id"], content_index=0, audio_end_ms=end_ms)

    def _on_response_create(self, event: dict) -> None:
        if self.response is not None:
            raise ApiError(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        params = event.get("response") or {}
        _validate_response_params(params)
        self._start_response(params)

    def _on_response_cancel(self, event: dict) -> None:
        wanted = event.get("response_id")
        if self.response is None or (wanted and wanted != self.response.id):
            raise ApiError("Cancellation failed: no active response found", code="response_cancel_not_active")
        self.response.finish("cancelled", "client_cancelled")

    def _on_output_audio_buffer_clear(self, event: dict) -> None:
        if self._playing is not None:
            self._clear_audio()
        elif self._last_response_id:
            self.emit("output_audio_buffer.cleared", response_id=self._last_response_id)

    def _on_input_audio_buffer_clear(self, event: dict) -> None:
        self._input.clear()
        self._stop_hearing()
        self._listener = Listener(streaming=True)
        self._utterance_item = None
        self.emit("input_audio_buffer.cleared")

    def _on_input_audio_buffer_commit(self, event: dict) -> None:
        buffered_ms = len(self._input) / BYTES_PER_MS
        if buffered_ms < 100:
            raise ApiError(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        pcm = trim_silence(bytes(self._input))
        self._input.clear()
        self._stop_hearing()
        self._listener = Listener(streaming=True)
        item_id = self._utterance_item or new_id("item")
        self._utterance_item = None
        self._spawn(self._commit(pcm, item_id, respond=False))

    def _on_input_audio_buffer_append(self, event: dict) -> None:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise missing_parameter("audio")
        try:
            samples = np.frombuffer(base64.b64decode(audio, validate=True), dtype=np.int16)
        except ValueError:
            raise invalid_value("audio", "Invalid 'audio': expected base64-encoded PCM16.") from None
        positions = np.arange(0, len(samples), 24000 / SAMPLE_RATE)
        resampled = np.interp(positions, np.arange(len(samples)), samples).astype(np.int16)
        self.feed_audio(resampled.tobytes())

    # -- caller audio ----------------------------------------------------------------------

    def feed_audio(self, pcm: bytes) -> None:
        """Take 16 kHz mono s16 caller audio: buffer it and run voice activity detection."""
        self._input += pcm
        del self._input[: max(0, len(self._input) - MAX_INPUT_MS * BYTES_PER_MS)]
        turn_detection = self.config["audio"]["input"]["turn_detection"]
        if turn_detection is None:
            self._stop_hearing()
            return
        for kind, ms, audio in self._listener.feed(pcm):
            if kind == "start":
                self._speech_started(ms, turn_detection)
            elif kind == "speech":
                if self._hearing is not None:
                    self._hearing.hear(audio)
            else:
                self._speech_stopped(ms, audio, turn_detection)

    def _stop_hearing(self) -> None:
        if self._hearing is not None:
            self._hearing.cancel()
            self._hearing = None

    @property
    def busy(self) -> bool:
        """Whether the assistant is generating or its audio is still playing."""
        return self.response is not None or self._playing is not None

    def _speech_started(self, ms: int, turn_detection: dict) -> None:
        # The fake microphone loops its file, so speech over the assistant only counts as barge-in.
        if self.busy and not turn_detection.get("interrupt_response", True):
            self._ignoring = True
            return
        self._ignoring = False
        self._stop_hearing()
        self._hearing = self.recognizer.stream()
        self._utterance_item = new_id("item")
        self.emit("input_audio_buffer.speech_started", audio_start_ms=ms, item_id=self._utterance_item)
        if self.busy:
            self._interrupt()

    def _interrupt(self) -> None:
        if self.response is not None:
            self.response.finish("cancelled", "turn_detected")
        if self._playing is not None:
            _, item_id, playback = self._playing
            heard = playback.played_ms
            self._clear_audio()
            item = next((i for i in self.items if i["id"] == item_id), None)
            if self.knobs.truncate_on_interrupt and item is not None:
                self._truncate(item, min(heard, self.audio_lengths.get(item_id, heard)))

    def _speech_stopped(self, ms: int, speech: bytes, turn_detection: dict) -> None:
        if self._ignoring:
            self._ignoring = False
            return
        item_id = self._utterance_item or new_id("item")
        self._utterance_item = None
        self.emit("input_audio_buffer.speech_stopped", audio_end_ms=ms, item_id=item_id)
        self._input.clear()
        heard = self._hearing.finish(speech) if self._hearing is not None else None
        self._hearing = None
        respond = turn_detection.get("create_response", True)
        self._spawn(self._commit(speech, item_id, respond=respond, heard=heard))

    async def _commit(
        self, pcm: bytes, item_id: str, *, respond: bool, heard: Awaitable[str] | None = None
    ) -> None:
        text = await (heard if heard is not None else self.recognizer.transcribe(pcm))
        previous = self.items[-1]["id"] if self.items else None
        self.emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.items.append(item)
        self._heard[item_id] = text
        self.audio_lengths[item_id] = len(pcm) // BYTES_PER_MS
        self.emit("conversation.item.added", previous_item_id=previous, item=item)
        self.emit("conversation.item.done", previous_item_id=previous, item=item)
        if self.config["audio"]["input"]["transcription"] is not None:
            self._pending_transcriptions.append((item_id, text, len(pcm) // BYTES_PER_MS))
        timing = self.knobs.transcription_timing
        if respond and self.response is None:
            if timing == "before_response":
                self.flush_transcriptions()
            self._start_response({})
        else:
            self.flush_transcriptions()

    def flush_transcriptions(self) -> None:
        """Emit the user transcription events that are due (completed, or failed by knob)."""
        pending, self._pending_transcriptions = self._pending_transcriptions, []
        for item_id, text, duration_ms in pending:
            if self.knobs.transcription_fails:
                self.emit(
                    "conversation.item.input_audio_transcription.failed",
                    item_id=item_id,
                    content_index=0,
                    error={
                        "type": "transcription_error",
                        "code": "audio_unintelligible",
                        "message": "The audio could not be transcribed.",
                        "param": None,
                    },
                )
                continue
            for item in self.items:
                if item["id"] == item_id:
                    item["content"][0]["transcript"] = text
            if text:
                self.emit(
                    "conversation.item.input_audio_transcription.delta",
                    item_id=item_id,
                    content_index=0,
                    delta=text,
                )
            audio_tokens = max(1, round(duration_ms / 1000 * USER_AUDIO_TOKENS_PER_S))
            output_tokens = max(1, len(text) // 4) if text else 0
            self.emit(
                "conversation.item.input_audio_transcription.completed",
                item_id=item_id,
                content_index=0,
                transcript=text,
                usage={
                    "type": "tokens",
                    "total_tokens": audio_tokens + output_tokens,
                    "input_tokens": audio_tokens,
                    "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                    "output_tokens": output_tokens,
                },
            )

    # -- responses and audio out -----------------------------------------------------------

    def _start_response(self, params: dict) -> None:
        self.response = Response(self, params)
        self._last_response_id = self.response.id
        self._spawn(self.response.run())

    def response_finished(self, response: Response) -> None:
        """Called by a response when `response.done` has been sent."""
        if self.response is response:
            self.response = None
        if self.knobs.transcription_timing == "after_response":
            self.flush_transcriptions()

    def play(self, response: Response, item_id: str, pcm: bytes) -> speech_out.Playback:
        """Start a response's audio on the speaker; `stopped` follows once played out."""
        if self._playing is not None:
            self._clear_audio()
        playback = self.speaker.play(pcm)
        self._playing = (response, item_id, playback)
        self.emit("output_audio_buffer.started", response_id=response.id)
        self._spawn(self._await_playout(response, playback))
        return playback

    async def _await_playout(self, response: Response, playback: speech_out.Playback) -> None:
        played_out = await playback.done
        # `stopped` always follows `response.done`, even when audio is shorter than generation.
        await response.finished.wait()
        if played_out and self._playing is not None and self._playing[2] is playback:
            self._playing = None
            self.emit("output_audio_buffer.stopped", response_id=response.id)

    def _clear_audio(self) -> None:
        response, _, playback = self._playing
        self._playing = None
        playback.stop()
        self.speaker.clear()
        self.emit("output_audio_buffer.cleared", response_id=response.id)

    # -- conversation helpers --------------------------------------------------------------

    def add_item(self, item: dict) -> None:
        """Append a response's item to the conversation and announce it."""
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        self.emit("conversation.item.added", previous_item_id=previous, item=item)

    def previous_id(self, item_id: str) -> str | None:
        """Return the id of the item before `item_id` in the conversation."""
        ids = [item["id"] for item in self.items]
        index = ids.index(item_id) if item_id in ids else len(ids)
        return ids[index - 1] if index > 0 else None

    def _index(self, item_id: object, param: str) -> int:
        for index, item in enumerate(self.items):
            if item["id"] == item_id:
                return index
        raise invalid_value(param, f"Item with id '{item_id}' not found in the conversation.")

    def model_view(self, explicit: list | None = None) -> list[dict]:
        """Items as the scripted model sees them: user audio replaced by what was heard."""
        if explicit is not None:
            by_id = {item["id"]: item for item in self.items}
            items = [by_id.get(i.get("id"), i) if i.get("type") == "item_reference" else i for i in explicit]
        else:
            items = self.items
        view = []
        for item in items:
            if item.get("id") in self._heard:
                item = {**item, "content": [{"type": "input_audio", "transcript": self._heard[item["id"]]}]}
            view.append(item)
        return view

    def rate_limits(self, tokens: tuple[int, int]) -> list[dict]:
        """Return the `rate_limits` list after reserving tokens for a response."""
        self._tokens_left = max(0, self._tokens_left - sum(tokens) - 500)
        return [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 40000, "remaining": self._tokens_left, "reset_seconds": 1.5},
        ]


_CLIENT_EVENTS = (
    "session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
    "input_audio_buffer.clear", "conversation.item.create", "conversation.item.retrieve",
    "conversation.item.truncate", "conversation.item.delete", "response.create",
    "response.cancel", "output_audio_buffer.clear",
)  # fmt: skip


def _validate_response_params(params: object) -> None:
    if not isinstance(params, dict):
        raise invalid_type("response", "an object", params)
    for key in params:
        if key not in RESPONSE_PARAMS:
            raise unknown_parameter(f"response.{key}")
    checks = {
        k: v
        for k, v in params.items()
        if k in ("tools", "tool_choice", "output_modalities", "max_output_tokens", "instructions")
    }
    session_config.validate({"type": "realtime", **checks}, path="response")
    if "conversation" in params and params["conversation"] not in ("auto", "none"):
        raise invalid_value(
            "response.conversation",
            f"Invalid value: '{params['conversation']}'. Supported values are: 'auto', 'none'.",
        )


def _normalise_item(item: object) -> dict:
    """Validate a client-supplied item and return it as the server stores it."""
    if not isinstance(item, dict):
        raise missing_parameter("item")
    kind = item.get("type", "message")
    base = {
        "id": item.get("id") or new_id("item"),
        "object": "realtime.item",
        "type": kind,
        "status": "completed",
    }
    if kind == "function_call_output":
        for field in ("call_id", "output"):
            if not isinstance(item.get(field), str):
                raise missing_parameter(f"item.{field}")
        return {**base, "call_id": item["call_id"], "output": item["output"]}
    if kind == "function_call":
        for field in ("name", "arguments"):
            if not isinstance(item.get(field), str):
                raise missing_parameter(f"item.{field}")
        return {
            **base,
            "name": item["name"],
            "call_id": item.get("call_id") or new_id("call", 16),
            "arguments": item["arguments"],
        }
    if kind != "message":
        raise invalid_value(
            "item.type",
            f"Invalid value: '{kind}'. Supported values are: 'message', 'function_call', "
            "'function_call_output'.",
        )
    role = item.get("role")
    allowed = {"user": USER_CONTENT, "system": ("input_text",), "assistant": ("output_text",)}
    if role not in allowed:
        raise invalid_value(
            "item.role", f"Invalid value: '{role}'. Supported values are: 'user', 'system', 'assistant'."
        )
    content = item.get("content")
    if not isinstance(content, list) or not content:
        raise missing_parameter("item.content")
    parts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in allowed[role]:
            supported = ", ".join(f"'{k}'" for k in allowed[role])
            raise invalid_value(
                f"item.content[{index}].type",
                f"Invalid value: '{kind}'. Supported values are: {supported}.",
            )
        if kind in ("input_text", "output_text"):
            parts.append({"type": kind, "text": part.get("text", "")})
        elif kind == "input_audio":
            parts.append({"type": kind, "transcript": part.get("transcript")})
        else:
            parts.append(
                {"type": kind, "image_url": part.get("image_url", ""), "detail": part.get("detail", "auto")}
            )
    return {**base, "role": role, "content": parts}
