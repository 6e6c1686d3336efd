"""The Responses backend a GPT-Live session delegates to: its conversation and its nested events."""

import json
import math
import time
from dataclasses import dataclass, field

from .. import model
from ..errors import ApiError, invalid_value
from ..ids import new_id

# Events of a real Responses stream that GPT-Live does not forward still use sequence numbers.
_HIDDEN_PER_CALL = 3  # output_item.added, function_call_arguments.delta, .done
_TEXT_CHUNK_WORDS = 4


@dataclass
class Turn:
    """One backend response: the nested events to forward and what the voice then says."""

    response_id: str
    events: list[dict]
    spoken: str | None = None
    calls: list[dict] = field(default_factory=list)


class Backend:
    """The backend conversation of one live session (user text, function calls and their outputs).

    The scripted model (`emulator.model`) decides; this class shapes its decisions as the
    Responses streaming events GPT-Live forwards in `response.event` envelopes: lifecycle
    snapshots with `output: []`, `response.output_item.done` for function calls, text deltas.
    """

    def __init__(self, config: dict) -> None:
        self.config = config
        self.items: list[dict] = []
        self.pending: dict[str, dict] = {}
        self.answered: set[str] = set()
        self._queued: list[model.FunctionCall] = []
        self._cached_tokens = 0

    @property
    def tools(self) -> list[dict]:
        """Function tools declared for the backend."""
        return [t for t in self.config.get("tools") or [] if t.get("type") == "function"]

    def handles_weather(self) -> bool:
        """Whether a weather question would make the backend call `get_weather`."""
        choice = self.config.get("tool_choice", "auto")
        return choice != "none" and any(t.get("name") == model.WEATHER_TOOL for t in self.tools)

    def add_user_text(self, text: str) -> None:
        """Add what the user said or typed to the backend conversation."""
        self.items.append(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        self._queued = []

    def add_item(self, item: dict) -> None:
        """Take a `response.item.create` item: a function output for a pending call, or a message."""
        if item.get("type") == "function_call_output":
            call_id = item["call_id"]
            if call_id not in self.pending:
                raise invalid_value(
                    "item.call_id", f"No function call with call_id '{call_id}' is waiting for its output."
                )
            if call_id in self.answered:
                raise invalid_value("item.call_id", f"The output for call_id '{call_id}' was already given.")
            output = item["output"] if isinstance(item["output"], str) else json.dumps(item["output"])
            self.items.append({"type": "function_call_output", "call_id": call_id, "output": output})
            self.answered.add(call_id)
            return
        text = _message_text(item)
        if text is None:
            raise invalid_value(
                "item", "The emulator's backend takes user messages and function_call_output items only."
            )
        self.add_user_text(text)

    def missing_outputs(self) -> list[str]:
        """Call ids still waiting for their `function_call_output`."""
        return [call_id for call_id in self.pending if call_id not in self.answered]

    def respond(self, delegation_id: str | None, *, continuing: bool = True) -> Turn:
        """Run one backend response on the conversation so far.

        `continuing` (a client's `response.create`) needs every pending call's output first; a
        new delegation of a spoken question does not, and earlier calls stay answerable.
        """
        if continuing:
            missing = self.missing_outputs()
            if missing:
                raise ApiError(
                    f"Cannot continue: no function_call_output was given for call_id '{missing[0]}'. "
                    "Send one with response.item.create before response.create.",
                    code="missing_function_call_output",
                )
            self.pending.clear()
            self.answered.clear()
        if not self._queued:
            plan = model.plan(self.items, self.tools, self.config.get("tool_choice", "auto"))
            if not plan.calls:
                return self._text_turn(delegation_id, plan.text)
            self._queued = list(plan.calls)
        parallel = self.config.get("parallel_tool_calls") is not False
        calls, self._queued = (self._queued, []) if parallel else (self._queued[:1], self._queued[1:])
        return self._calls_turn(delegation_id, calls)

    def _calls_turn(self, delegation_id: str | None, calls: list[model.FunctionCall]) -> Turn:
        stream = _Stream(self, delegation_id)
        items = []
        for index, call in enumerate(calls):
            item = {
                "type": "function_call",
                "id": new_id("fc"),
                "call_id": new_id("call", 16),
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
            stream.skip(_HIDDEN_PER_CALL)
            stream.add("response.output_item.done", output_index=index, item=item)
            self.items.append({k: item[k] for k in ("type", "call_id", "name", "arguments")})
            self.pending[item["call_id"]] = item
            items.append(item)
        stream.complete(items)
        return Turn(stream.response_id, stream.events, calls=items)

    def _text_turn(self, delegation_id: str | None, text: str) -> Turn:
        stream = _Stream(self, delegation_id)
        message_id = new_id("msg")
        # The backend writes for the voice model, which paraphrases it; the user hears `spoken`.
        written = f"Answer for the user: {text}"
        words = written.split(" ")
        stream.skip(2)  # output_item.added, content_part.added
        for start in range(0, len(words), _TEXT_CHUNK_WORDS):
            delta = " ".join(words[start : start + _TEXT_CHUNK_WORDS])
            stream.add(
                "response.output_text.delta",
                item_id=message_id,
                output_index=0,
                content_index=0,
                delta=delta if start == 0 else f" {delta}",
                logprobs=[],
            )
        stream.skip(3)  # output_text.done, content_part.done, output_item.done
        self.items.append(
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
        )
        stream.complete([{"text": written}])
        return Turn(stream.response_id, stream.events, spoken=text)

    def usage(self, output: list[dict]) -> dict:
        """Token usage of one response: the whole conversation is re-read, its prefix cached."""
        prompt = (self.config.get("instructions") or "") + json.dumps(self.tools) + json.dumps(self.items)
        input_tokens = math.ceil(len(prompt) / 4)
        cached = min(self._cached_tokens, input_tokens)
        self._cached_tokens = input_tokens // 64 * 64
        output_tokens = max(1, math.ceil(len(json.dumps(output)) / 4))
        return {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        }


class _Stream:
    """The forwarded events of one backend response, with Responses sequence numbers."""

    def __init__(self, backend: Backend, delegation_id: str | None) -> None:
        self.backend = backend
        self.delegation_id = delegation_id
        self.response_id = new_id("resp")
        self.created_at = int(time.time())
        self.events: list[dict] = []
        self._sequence = 0
        self.add("response.created", response=self.snapshot("in_progress"))
        self.skip(1)  # response.in_progress

    def snapshot(self, status: str) -> dict:
        """A lifecycle snapshot as GPT-Live forwards it: no output, tools or instructions."""
        config = self.backend.config
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "model": config["model"],
            "status": status,
            "output": [],
            "tools": [],
            "tool_choice": config.get("tool_choice", "auto"),
            "parallel_tool_calls": config.get("parallel_tool_calls") is not False,
            "instructions": None,
        }

    def add(self, type: str, **fields: object) -> None:
        self.events.append({"type": type, "sequence_number": self._sequence, **fields})
        self._sequence += 1

    def skip(self, count: int) -> None:
        self._sequence += count

    def complete(self, output: list[dict]) -> None:
        self.add(
            "response.completed",
            response={**self.snapshot("completed"), "usage": self.backend.usage(output)},
        )


def _message_text(item: dict) -> str | None:
    if item.get("role") != "user" or item.get("type", "message") != "message":
        return None
    content = item.get("content")
    if isinstance(content, str):
        return content
    parts = [
        p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "input_text"
    ]
    return " ".join(parts) if parts else None
