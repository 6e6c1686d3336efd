"""Render conversations as JSON, Markdown, plain text, CSV or SRT: pure functions, rows in, text out.

A renderer takes a conversation (with its stored figures) and its turns as
selectors.transcript gives them (the API's shape, times in UTC), and yields the file a chunk at a
time; conversations/downloads.py streams it. Times are shown in the current time zone.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import DateTimeField
from django.utils import timezone
from django.utils.text import slugify

from conversations.formatting import format_duration, usage_line
from conversations.models import TURN_FIELDS, Conversation, Turn
from conversations.serializers import ConversationSerializer

JSON_BATCH = 200  # turns per streamed JSON chunk
SPEAKERS = {Turn.Role.USER: "You", Turn.Role.ASSISTANT: "Assistant", Turn.Role.TOOL: "Tool"}
STATUSES = {status: label.lower() for status, label in Turn.Status.choices}
# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+\.)", re.MULTILINE)

Rows = Iterable[dict]
_TIMES = [
    name for name, field in TURN_FIELDS.items() if isinstance(Turn._meta.get_field(field), DateTimeField)
]


# --- Helpers ----------------------------------------------------------------------------


def filename_for(conversation: Conversation, extension: str) -> str:
    slug = slugify(conversation.title)[:50].strip("-") or "conversation"
    day = timezone.localdate(conversation.started_at or conversation.created_at)
    return f"voiceapp-{slug}-{day:%Y-%m-%d}.{extension}"


class _Clock:
    """Turn times (the API's text, in UTC) in the current time zone, looked up once per file: it is a
    thread-local, and a file has many turns. In UTC the text needs no parsing at all."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.utc = str(self.zone) == "UTC"

    def local(self, text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(self.zone)

    def time_of_day(self, text: str) -> str:
        return text[11:19] if self.utc else self.local(text).strftime("%H:%M:%S")

    def isoformat(self, text: str) -> str:
        return text[:-1] + "+00:00" if self.utc else self.local(text).isoformat()

    def api_turn(self, turn: dict) -> dict:
        """The turn as the API shows it in this time zone."""
        if self.utc:
            return turn
        local = {name: self.local(turn[name]).isoformat() for name in _TIMES if turn[name]}
        return {**turn, **local}


def _when(turn: dict) -> str:
    return turn["started_at"] or turn["created_at"]


def _stamp(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def json_text(value) -> str:
    # Like json_script: no raw <, > or & even in a download, in case something renders it as HTML.
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _md(text: str) -> str:
    return _MD_LINE_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def _tool_summary(turn: dict) -> str:
    summary = f"{turn['name'] or 'tool'}({turn['arguments']})"
    return f"{summary} -> {turn['output']}" if turn["output"] else summary


# --- One conversation, one function per format -------------------------------------------------


def _json_turns(rows: Rows) -> Iterator[str]:
    """The turns of a JSON array, a batch of turns per chunk (one write per turn would dominate)."""
    clock = _Clock()
    batch, separator = [], ""
    for turn in rows:
        batch.append(clock.api_turn(turn))
        if len(batch) == JSON_BATCH:
            yield separator + "\n" + json_text(batch)[1:-1]
            batch, separator = [], ","
    if batch:
        yield separator + "\n" + json_text(batch)[1:-1]


def render_json(
    conversation: Conversation, rows: Rows, serializer: ConversationSerializer | None = None
) -> Iterator[str]:
    """The conversation as the API's detail shows it. `serializer` is one to reuse: a serializer builds
    its fields on first use, which cost more than a small conversation's turns in an account export."""
    yield conversation_head(conversation, serializer or ConversationSerializer())
    yield from _json_turns(rows)
    yield CONVERSATION_END


def conversation_head(conversation: Conversation, serializer: ConversationSerializer) -> str:
    """A conversation's JSON up to the opening of its turns (render_json; sql_json too)."""
    return json_text(serializer.to_representation(conversation))[:-1] + ', "turns": ['


CONVERSATION_END = "\n]}\n"  # after a conversation's turns


def render_markdown(conversation: Conversation, rows: Rows) -> Iterator[str]:
    yield f"# {_md(conversation.display_title)}\n\n"
    yield f"- Date: {_stamp(conversation.started_at or conversation.created_at)}\n"
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        yield f"- Duration: {duration}\n"
    yield f"- Model: {_md(conversation.model or 'unknown')}, voice {_md(conversation.voice or 'default')}\n"
    yield f"- Usage: {_md(usage_line(conversation))}\n\n---\n\n"
    clock = _Clock()
    for turn in rows:
        if turn["role"] == Turn.Role.TOOL:
            yield f"> Tool call at {clock.time_of_day(_when(turn))}: {_md(_tool_summary(turn))}\n\n"
            continue
        status = f" · *{STATUSES[turn['status']]}*" if turn["status"] != Turn.Status.COMPLETED else ""
        text = _md(turn["text"]) if turn["text"] else "*(no transcript)*"
        yield f"**{SPEAKERS[turn['role']]}** · {clock.time_of_day(_when(turn))}{status}\n\n{text}\n\n"


def render_text(conversation: Conversation, rows: Rows) -> Iterator[str]:
    yield f"{conversation.display_title}\n"
    details = [_stamp(conversation.started_at or conversation.created_at)]
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        details.append(duration)
    details.append(usage_line(conversation))
    yield " · ".join(details) + "\n\n"
    clock = _Clock()
    for turn in rows:
        if turn["role"] == Turn.Role.TOOL:
            yield f"[{clock.time_of_day(_when(turn))}] Tool: {_tool_summary(turn)}\n"
            continue
        status = f" ({STATUSES[turn['status']]})" if turn["status"] != Turn.Status.COMPLETED else ""
        yield f"[{clock.time_of_day(_when(turn))}] {SPEAKERS[turn['role']]}{status}: {turn['text']}\n"


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


MICRODOLLAR = Decimal("0.000001")  # the precision of stored costs


def render_csv(conversation: Conversation, rows: Rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow(
        ["time", "speaker", "status", "text", "tool", "arguments", "output", "tokens", "cost", "item_id"]
    )
    clock = _Clock()
    turns_cost = Decimal(0)
    for turn in rows:
        usage = turn["usage"] or {}
        turns_cost += Decimal(usage.get("cost") or 0)
        yield writer.writerow(
            [
                _cell(clock.isoformat(_when(turn))),
                _cell(SPEAKERS[turn["role"]]),
                _cell(turn["status"]),
                _cell(turn["text"]),
                _cell(turn["name"]),
                _cell(turn["arguments"]),
                _cell(turn["output"]),
                usage.get("total_tokens", ""),
                usage.get("cost", ""),
                _cell(turn["item_id"]),
            ]
        )
    # GPT-Live bills session time, which belongs to no turn: one more row, so that the cost column
    # adds up to the conversation's cost on either voice API.
    voice_time_cost = (getattr(conversation, "total_cost", turns_cost) - turns_cost).quantize(MICRODOLLAR)
    if voice_time_cost > 0:
        yield writer.writerow(["", "Voice time", "", "", "", "", "", "", voice_time_cost, ""])


def _srt_time(offset: timedelta) -> str:
    millis = max(int(offset.total_seconds() * 1000), 0)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02}:{minutes:02}:{seconds:02},{millis:03}"


def render_srt(conversation: Conversation, rows: Rows) -> Iterator[str]:
    """Spoken turns as subtitles, timed from the conversation's start; tool calls are left out."""
    origin = conversation.started_at
    number = 0
    for turn in rows:
        if turn["role"] == Turn.Role.TOOL or not turn["text"].strip():
            continue
        when = datetime.fromisoformat(_when(turn))
        ended = datetime.fromisoformat(turn["ended_at"]) if turn["ended_at"] else None
        origin = origin or when
        start = when - origin
        if ended and ended > when:
            end = ended - origin
        elif turn["audio_end_ms"]:
            end = start + timedelta(milliseconds=turn["audio_end_ms"])
        else:
            # No end time: roughly the time it takes to say the words, at least two seconds.
            end = start + timedelta(seconds=max(2.0, len(turn["text"].split()) * 0.4))
        number += 1
        text = "\n".join(line for line in turn["text"].strip().splitlines() if line.strip())
        yield f"{number}\n{_srt_time(start)} --> {_srt_time(end)}\n{SPEAKERS[turn['role']]}: {text}\n\n"


FORMATS = {
    "json": ("application/json", render_json),
    "md": ("text/markdown; charset=utf-8", render_markdown),
    "txt": ("text/plain; charset=utf-8", render_text),
    "csv": ("text/csv; charset=utf-8", render_csv),
    "srt": ("application/x-subrip; charset=utf-8", render_srt),
}


# --- Many conversations (account export, admin action) -------------------------------------------


def render_conversations_json(transcripts: Iterable[tuple[Conversation, Rows]]) -> Iterator[str]:
    """A JSON array of the conversations, each as the single-conversation JSON export, streamed."""
    yield "["
    serializer = ConversationSerializer()
    for index, (conversation, rows) in enumerate(transcripts):
        yield "," if index else ""
        yield from render_json(conversation, rows, serializer)
    yield "]"


def render_many_json(header: dict, conversations: Iterable[str | bytes]) -> Iterator[str | bytes]:
    """The header object with the conversations' JSON array (render_conversations_json or
    sql_json's) as its "conversations"."""
    yield json_text(header)[:-1] + ', "conversations": '
    yield from conversations
    yield "}\n"
