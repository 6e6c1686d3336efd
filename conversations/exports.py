"""Render conversations as JSON, Markdown, plain text, CSV or SRT: pure functions, rows in, text out.

A renderer takes a conversation (annotated by selectors.with_stats) and its turns as the rows of
selectors.transcript, and yields the file a chunk at a time; conversations/downloads.py streams
it. Times in rows are the API's text in UTC; they are shown in the current time zone.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.text import slugify

from conversations.formatting import format_duration, usage_line
from conversations.models import Conversation, Turn
from conversations.serializers import ConversationSerializer, turn_record

JSON_BATCH = 200  # turns per streamed JSON chunk
SPEAKERS = {Turn.Role.USER: "You", Turn.Role.ASSISTANT: "Assistant", Turn.Role.TOOL: "Tool"}
STATUSES = {status: label.lower() for status, label in Turn.Status.choices}
# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+\.)", re.MULTILINE)

Rows = Iterable[dict]


# --- Helpers ----------------------------------------------------------------------------


def filename_for(conversation: Conversation, extension: str) -> str:
    slug = slugify(conversation.title)[:50].strip("-") or "conversation"
    day = timezone.localdate(conversation.started_at or conversation.created_at)
    return f"voiceapp-{slug}-{day:%Y-%m-%d}.{extension}"


class _Clock:
    """Row times (the API's text, in UTC) in the current time zone, looked up once per file: it is a
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


def _stamp(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def json_text(value) -> str:
    # Like json_script: no raw <, > or & even in a download, in case something renders it as HTML.
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _md(text: str) -> str:
    return _MD_LINE_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def _tool_summary(row: dict) -> str:
    summary = f"{row['tool_name'] or 'tool'}({row['arguments']})"
    return f"{summary} -> {row['output']}" if row["output"] else summary


# --- One conversation, one function per format -------------------------------------------------


def _json_turns(rows: Rows) -> Iterator[str]:
    """The turns of a JSON array, a batch of turns per chunk (one write per turn would dominate)."""
    zone = timezone.get_current_timezone()
    batch, separator = [], ""
    for row in rows:
        batch.append(turn_record(row, zone))
        if len(batch) == JSON_BATCH:
            yield separator + "\n" + json_text(batch)[1:-1]
            batch, separator = [], ","
    if batch:
        yield separator + "\n" + json_text(batch)[1:-1]


def render_json(conversation: Conversation, rows: Rows) -> Iterator[str]:
    header = json_text(ConversationSerializer(conversation).data)
    yield header[:-1] + ', "turns": ['
    yield from _json_turns(rows)
    yield "\n]}\n"


def render_markdown(conversation: Conversation, rows: Rows) -> Iterator[str]:
    yield f"# {_md(conversation.display_title)}\n\n"
    yield f"- Date: {_stamp(conversation.started_at or conversation.created_at)}\n"
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        yield f"- Duration: {duration}\n"
    yield f"- Model: {_md(conversation.model or 'unknown')}, voice {_md(conversation.voice or 'default')}\n"
    yield f"- Usage: {_md(usage_line(conversation))}\n\n---\n\n"
    clock = _Clock()
    for row in rows:
        if row["role"] == Turn.Role.TOOL:
            yield f"> Tool call at {clock.time_of_day(row['when'])}: {_md(_tool_summary(row))}\n\n"
            continue
        status = f" · *{STATUSES[row['status']]}*" if row["status"] != Turn.Status.COMPLETED else ""
        text = _md(row["text"]) if row["text"] else "*(no transcript)*"
        yield f"**{SPEAKERS[row['role']]}** · {clock.time_of_day(row['when'])}{status}\n\n{text}\n\n"


def render_text(conversation: Conversation, rows: Rows) -> Iterator[str]:
    yield f"{conversation.display_title}\n"
    details = [_stamp(conversation.started_at or conversation.created_at)]
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        details.append(duration)
    details.append(usage_line(conversation))
    yield " · ".join(details) + "\n\n"
    clock = _Clock()
    for row in rows:
        if row["role"] == Turn.Role.TOOL:
            yield f"[{clock.time_of_day(row['when'])}] Tool: {_tool_summary(row)}\n"
            continue
        status = f" ({STATUSES[row['status']]})" if row["status"] != Turn.Status.COMPLETED else ""
        yield f"[{clock.time_of_day(row['when'])}] {SPEAKERS[row['role']]}{status}: {row['text']}\n"


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def render_csv(conversation: Conversation, rows: Rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow(
        ["time", "speaker", "status", "text", "tool", "arguments", "output", "tokens", "cost", "item_id"]
    )
    clock = _Clock()
    for row in rows:
        has_usage = row["usage__total_tokens"] is not None
        yield writer.writerow(
            [
                _cell(clock.isoformat(row["when"])),
                _cell(SPEAKERS[row["role"]]),
                _cell(row["status"]),
                _cell(row["text"]),
                _cell(row["tool_name"]),
                _cell(row["arguments"]),
                _cell(row["output"]),
                row["usage__total_tokens"] if has_usage else "",
                row["usage__cost"] if has_usage else "",
                _cell(row["item_id"]),
            ]
        )


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
    for row in rows:
        if row["role"] == Turn.Role.TOOL or not row["text"].strip():
            continue
        when = datetime.fromisoformat(row["when"])
        ended = datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None
        origin = origin or when
        start = when - origin
        if ended and ended > when:
            end = ended - origin
        elif row["audio_end_ms"]:
            end = start + timedelta(milliseconds=row["audio_end_ms"])
        else:
            # No end time: roughly the time it takes to say the words, at least two seconds.
            end = start + timedelta(seconds=max(2.0, len(row["text"].split()) * 0.4))
        number += 1
        text = "\n".join(line for line in row["text"].strip().splitlines() if line.strip())
        yield f"{number}\n{_srt_time(start)} --> {_srt_time(end)}\n{SPEAKERS[row['role']]}: {text}\n\n"


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
    for index, (conversation, rows) in enumerate(transcripts):
        yield "," if index else ""
        yield from render_json(conversation, rows)
    yield "]"


def render_many_json(transcripts: Iterable[tuple[Conversation, Rows]], header: dict) -> Iterator[str]:
    yield json_text(header)[:-1] + ', "conversations": '
    yield from render_conversations_json(transcripts)
    yield "}\n"
