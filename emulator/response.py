"""One model response: the streamed events of a spoken/written answer or of function calls."""

import asyncio
import json
import math
from typing import Protocol

from . import model
from .ids import new_id
from .knobs import Knobs
from .speech_out import Playback

USER_AUDIO_TOKENS_PER_S = 10
ASSISTANT_AUDIO_TOKENS_PER_S = 20


class ResponseHost(Protocol):
    """What a response needs from the session that runs it (session.Session provides it)."""

    config: dict
    knobs: Knobs
    conversation_id: str
    items: list[dict]
    audio_lengths: dict[str, int]
    cached_tokens: int

    def emit(self, type: str, **fields: object) -> None: ...
    def rate_limits(self, tokens: tuple[int, int]) -> list[dict]: ...
    def flush_transcriptions(self) -> None: ...
    def model_view(self, explicit: list | None = None) -> list[dict]: ...
    async def synthesize(self, text: str, *, voice: str, speed: float) -> bytes: ...
    def play(self, response: "Response", item_id: str, pcm: bytes) -> Playback: ...
    def add_item(self, item: dict) -> None: ...
    def previous_id(self, item_id: str) -> str | None: ...
    def response_finished(self, response: "Response") -> None: ...


class Response:
    """Runs one response for a session; `finish` may end it early (cancel, barge-in)."""

    def __init__(self, session: ResponseHost, params: dict) -> None:
        self.session = session
        self.params = params
        self.id = new_id("resp")
        self.in_conversation = params.get("conversation", "auto") != "none"
        self.output: list[dict] = []
        self.status = "in_progress"
        self.finished = asyncio.Event()
        self._current: dict | None = None
        self._generated = ""
        self._audio_ms = 0
        self._playback = None
        self._usage: dict | None = None
        self._reason: str | None = None
        self._text = ""

    @property
    def modalities(self) -> list[str]:
        """Output modalities of this response."""
        return self.params.get("output_modalities") or self.session.config["output_modalities"]

    @property
    def voice(self) -> str:
        """Voice name of this response (custom voice ids fall back to the default voice)."""
        voice = (self.params.get("audio") or {}).get("output", {}).get("voice")
        voice = voice or self.session.config["audio"]["output"]["voice"]
        return voice if isinstance(voice, str) else "alloy"

    def snapshot(self) -> dict:
        """Return the `realtime.response` object as it stands."""
        output_format = self.session.config["audio"]["output"]["format"]
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": self.status,
            "status_details": self._status_details(),
            "output": [dict(item) for item in self.output],
            "conversation_id": self.session.conversation_id if self.in_conversation else None,
            "output_modalities": self.modalities,
            "max_output_tokens": self.params.get(
                "max_output_tokens", self.session.config["max_output_tokens"]
            ),
            "audio": {"output": {"format": output_format, "voice": self.voice}},
            "usage": self._usage,
            "metadata": self.params.get("metadata"),
        }

    def _status_details(self) -> dict | None:
        if self.status == "cancelled":
            return {"type": "cancelled", "reason": self._reason}
        return None

    async def run(self) -> None:
        """Stream the whole response; returns early if `finish` was called meanwhile."""
        session = self.session
        session.emit("response.created", response=self.snapshot())
        session.emit("rate_limits.updated", rate_limits=session.rate_limits(self._input_tokens()))
        if session.knobs.transcription_timing == "during_response":
            session.flush_transcriptions()
        tools = self.params.get("tools", session.config["tools"])
        tool_choice = self.params.get("tool_choice", session.config["tool_choice"])
        plan = model.plan(session.model_view(self.params.get("input")), tools, tool_choice)
        for call in plan.calls:
            await self._function_call(call)
            if self.finished.is_set():
                return
        if plan.text:
            await self._message(plan.text)
        if not self.finished.is_set():
            self.finish("completed")

    async def _function_call(self, call: model.FunctionCall) -> None:
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": new_id("call", 16),
            "arguments": "",
        }
        ids = self._open_item(item)
        middle = len(call.arguments) // 2
        for delta in (call.arguments[:middle], call.arguments[middle:]):
            item["arguments"] += delta
            self.session.emit(
                "response.function_call_arguments.delta", call_id=item["call_id"], delta=delta, **ids
            )
            if await self._pause(0.01):
                return
        self.session.emit(
            "response.function_call_arguments.done",
            call_id=item["call_id"],
            name=item["name"],
            arguments=item["arguments"],
            **ids,
        )
        self._close_item("completed")

    async def _message(self, text: str) -> None:
        session = self.session
        audio = "audio" in self.modalities
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        ids = self._open_item(item)
        part = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        session.emit("response.content_part.added", content_index=0, part=part, **ids)
        self._text = text
        words = text.split(" ")
        duration_ms = 250 * len(words)
        if audio:
            speed = session.config["audio"]["output"].get("speed") or 1.0
            pcm = await session.synthesize(text, voice=self.voice, speed=speed)
            if self.finished.is_set():
                return
            self._playback = session.play(self, item["id"], pcm)
            duration_ms = self._playback.duration_ms
        self._audio_ms = duration_ms
        interval = duration_ms / 1000 * session.knobs.generation_pace / len(words)
        kind = "response.output_audio_transcript.delta" if audio else "response.output_text.delta"
        for index, word in enumerate(words):
            delta = word if index == 0 else f" {word}"
            self._generated += delta
            session.emit(kind, content_index=0, delta=delta, **ids)
            if await self._pause(interval):
                return
        self._close_item("completed")

    def _open_item(self, item: dict) -> dict:
        """Announce a new output item; return the id fields its streaming events carry."""
        self._current = item
        self._generated = ""
        output_index = len(self.output)
        self.output.append(item)
        self.session.emit(
            "response.output_item.added", response_id=self.id, output_index=output_index, item=item
        )
        if self.in_conversation:
            self.session.add_item(item)
        return {"response_id": self.id, "item_id": item["id"], "output_index": output_index}

    def _close_item(self, status: str) -> None:
        """Emit the closing events of the current item (`incomplete` when cut short)."""
        item, self._current = self._current, None
        if item is None:
            return
        session = self.session
        ids = {"response_id": self.id, "item_id": item["id"], "output_index": self.output.index(item)}
        if item["type"] == "message":
            text = self._generated
            if "audio" in self.modalities:
                session.emit("response.output_audio.done", content_index=0, **ids)
                session.emit("response.output_audio_transcript.done", content_index=0, transcript=text, **ids)
                part = {"type": "audio", "transcript": text}
                item["content"] = [{"type": "output_audio", "transcript": text}]
                session.audio_lengths[item["id"]] = self._audio_ms
            else:
                session.emit("response.output_text.done", content_index=0, text=text, **ids)
                part = {"type": "text", "text": text}
                item["content"] = [{"type": "output_text", "text": text}]
            session.emit("response.content_part.done", content_index=0, part=part, **ids)
        item["status"] = status
        session.emit(
            "response.output_item.done", response_id=self.id, output_index=ids["output_index"], item=item
        )
        if self.in_conversation:
            session.emit(
                "conversation.item.done", previous_item_id=session.previous_id(item["id"]), item=item
            )

    def finish(self, status: str, reason: str | None = None) -> None:
        """End the response now: close the open item, emit `response.done`."""
        if self.finished.is_set():
            return
        self._reason = reason
        if status == "cancelled" and self._current is not None:
            if self._playback is not None and reason == "client_cancelled":
                # Upstream keeps playing only the audio it had generated before the cancel.
                generated = len(self._generated) / max(1, len(self._text))
                self._playback.cut(int(self._audio_ms * generated))
            self._close_item("incomplete")
        self.status = status
        self._usage = self._compute_usage()
        self.finished.set()
        self.session.emit("response.done", response=self.snapshot())
        self.session.response_finished(self)

    async def _pause(self, seconds: float) -> bool:
        """Sleep, waking early if the response was finished; return True if it was."""
        try:
            await asyncio.wait_for(self.finished.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    def _input_tokens(self) -> tuple[int, int]:
        """Estimate (text, audio) input tokens: the whole conversation is re-read each turn."""
        session = self.session
        text = len(session.config["instructions"]) + len(json.dumps(session.config["tools"]))
        audio_ms = 0
        for item in session.items:
            text += len(json.dumps(item.get("content") or item.get("arguments") or item.get("output") or ""))
            audio_ms += session.audio_lengths.get(item["id"], 0)
        return math.ceil(text / 4), math.ceil(audio_ms / 1000 * USER_AUDIO_TOKENS_PER_S)

    def _compute_usage(self) -> dict:
        text_in, audio_in = self._input_tokens()
        cached = self.session.cached_tokens
        cached_text = min(text_in, cached)
        cached_audio = min(audio_in, cached - cached_text)
        self.session.cached_tokens = (text_in + audio_in) // 64 * 64
        text_out = sum(
            math.ceil(len(json.dumps(item.get("content") or item.get("arguments") or "")) / 4)
            for item in self.output
        )
        audio_out = 0
        if "audio" in self.modalities and any(i["type"] == "message" for i in self.output):
            audio_out = math.ceil(self._audio_ms / 1000 * ASSISTANT_AUDIO_TOKENS_PER_S)
        return {
            "total_tokens": text_in + audio_in + text_out + audio_out,
            "input_tokens": text_in + audio_in,
            "output_tokens": text_out + audio_out,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": cached_text + cached_audio,
                "cached_tokens_details": {
                    "text_tokens": cached_text,
                    "audio_tokens": cached_audio,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }
