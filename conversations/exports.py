"""Render conversations as JSON, Markdown, plain text, CSV or SRT, streamed a chunk at a time."""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from conversations import selectors
from conversations.models import TURN_FIELDS, TURN_ORDER, Conversation, Turn, Usage
from conversations.serializers import USAGE_FIELDS, ConversationSerializer, turn_record

CHUNK_SIZE = 1000  # rows per fetch from the database cursor: fewer round trips, memory still flat
JSON_BATCH = 200  # turns per streamed JSON chunk
SPEAKERS = {Turn.Role.USER: "You", Turn.Role.ASSISTANT: "Assistant", Turn.Role.TOOL: "Tool"}
# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+\.)", re.MULTILINE)


# --- Helpers ----------------------------------------------------------------------------


def format_duration(elapsed: timedelta | None) -> str:
    if elapsed is None:
        return ""
    seconds = max(int(elapsed.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def filename_for(conversation: Conversation, extension: str) -> str:
    slug = slugify(conversation.title)[:50].strip("-") or "conversation"
    day = timezone.localdate(conversation.started_at or conversation.created_at)
    return f"voiceapp-{slug}-{day:%Y-%m-%d}.{extension}"


def _when(turn: Turn) -> datetime:
    return turn.started_at or turn.created_at


def _clock(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else ""


def _stamp(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def json_text(value) -> str:
    # Like json_script: no raw <, > or & even in a download, in case something renders it as HTML.
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _md(text: str) -> str:
    return _MD_LINE_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def _cost_line(conversation: Conversation) -> str:
    tokens = getattr(conversation, "total_tokens", 0)
    # GPT-Live bills voice time; its only tokens are the delegation backend's.
    counted = (
        f"{tokens} backend tokens plus voice time" if conversation.upstream == "live" else f"{tokens} tokens"
    )
    if not conversation.price_known:
        return f"{counted}, price unknown for model {conversation.model or '(none)'}"
    return f"{counted}, estimated cost ${getattr(conversation, 'total_cost', 0):.4f}"


def _tool_summary(turn: Turn) -> str:
    summary = f"{turn.tool_name or 'tool'}({turn.arguments})"
    return f"{summary} -> {turn.output}" if turn.output else summary


# --- One conversation, one function per format -------------------------------------------------


def turn_rows(turns: QuerySet[Turn]) -> Iterator[dict]:
    """The turns as plain rows with their usage columns (no model instances: exports are big), streamed
    in the queryset's order."""
    usage = [f"usage__{field}" for field in USAGE_FIELDS]
    rows = turns.values("conversation_id", *TURN_FIELDS.values(), *usage)
    return rows.iterator(chunk_size=CHUNK_SIZE)


def _json_turns(rows: Iterable[dict]) -> Iterator[str]:
    """The turns of a JSON array, a batch of turns per chunk (one write per turn would dominate)."""
    batch, separator = [], ""
    for row in rows:
        batch.append(turn_record(row))
        if len(batch) == JSON_BATCH:
            yield separator + "\n" + json_text(batch)[1:-1]
            batch, separator = [], ","
    if batch:
        yield separator + "\n" + json_text(batch)[1:-1]


def render_json(conversation: Conversation, rows: Iterable[dict]) -> Iterator[str]:
    header = json_text(ConversationSerializer(conversation).data)
    yield header[:-1] + ', "turns": ['
    yield from _json_turns(rows)
    yield "\n]}\n"


def render_markdown(conversation: Conversation, turns: Iterable[Turn]) -> Iterator[str]:
    yield f"# {_md(conversation.display_title)}\n\n"
    yield f"- Date: {_stamp(conversation.started_at or conversation.created_at)}\n"
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        yield f"- Duration: {duration}\n"
    yield f"- Model: {_md(conversation.model or 'unknown')}, voice {_md(conversation.voice or 'default')}\n"
    yield f"- Usage: {_md(_cost_line(conversation))}\n\n---\n\n"
    for turn in turns:
        if turn.role == Turn.Role.TOOL:
            yield f"> Tool call at {_clock(_when(turn))}: {_md(_tool_summary(turn))}\n\n"
            continue
        status = f" · *{turn.get_status_display().lower()}*" if turn.status != Turn.Status.COMPLETED else ""
        yield f"**{SPEAKERS[turn.role]}** · {_clock(_when(turn))}{status}\n\n"
        yield f"{_md(turn.text) if turn.text else '*(no transcript)*'}\n\n"


def render_text(conversation: Conversation, turns: Iterable[Turn]) -> Iterator[str]:
    yield f"{conversation.display_title}\n"
    details = [_stamp(conversation.started_at or conversation.created_at)]
    if duration := format_duration(getattr(conversation, "elapsed", None)):
        details.append(duration)
    details.append(_cost_line(conversation))
    yield " · ".join(details) + "\n\n"
    for turn in turns:
        if turn.role == Turn.Role.TOOL:
            yield f"[{_clock(_when(turn))}] Tool: {_tool_summary(turn)}\n"
            continue
        status = f" ({turn.get_status_display().lower()})" if turn.status != Turn.Status.COMPLETED else ""
        yield f"[{_clock(_when(turn))}] {SPEAKERS[turn.role]}{status}: {turn.text}\n"


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def render_csv(conversation: Conversation, turns: Iterable[Turn]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow(
        ["time", "speaker", "status", "text", "tool", "arguments", "output", "tokens", "cost", "item_id"]
    )
    for turn in turns:
        usage = _usage_of(turn)
        yield writer.writerow(
            [
                _cell(timezone.localtime(_when(turn)).isoformat()),
                _cell(SPEAKERS[turn.role]),
                _cell(turn.status),
                _cell(turn.text),
                _cell(turn.tool_name),
                _cell(turn.arguments),
                _cell(turn.output),
                usage.total_tokens if usage else "",
                usage.cost if usage else "",
                _cell(turn.item_id),
            ]
        )


def _usage_of(turn: Turn) -> Usage | None:
    try:
        return turn.usage
    except Usage.DoesNotExist:
        return None


def _srt_time(offset: timedelta) -> str:
    millis = max(int(offset.total_seconds() * 1000), 0)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02}:{minutes:02}:{seconds:02},{millis:03}"


def render_srt(conversation: Conversation, turns: Iterable[Turn]) -> Iterator[str]:
    """Spoken turns as subtitles, timed from the conversation's start; tool calls are left out."""
    origin = conversation.started_at
    number = 0
    for turn in turns:
        if turn.role == Turn.Role.TOOL or not turn.text.strip():
            continue
        origin = origin or _when(turn)
        start = _when(turn) - origin
        if turn.ended_at and turn.ended_at > _when(turn):
            end = turn.ended_at - origin
        elif turn.audio_end_ms:
            end = start + timedelta(milliseconds=turn.audio_end_ms)
        else:
            # No end time: roughly the time it takes to say the words, at least two seconds.
            end = start + timedelta(seconds=max(2.0, len(turn.text.split()) * 0.4))
        number += 1
        text = "\n".join(line for line in turn.text.strip().splitlines() if line.strip())
        yield f"{number}\n{_srt_time(start)} --> {_srt_time(end)}\n{SPEAKERS[turn.role]}: {text}\n\n"


FORMATS = {
    "json": ("application/json", render_json),
    "md": ("text/markdown; charset=utf-8", render_markdown),
    "txt": ("text/plain; charset=utf-8", render_text),
    "csv": ("text/csv; charset=utf-8", render_csv),
    "srt": ("application/x-subrip; charset=utf-8", render_srt),
}


def _attachment(chunks: Iterator[str], content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def conversation_response(conversation: Conversation, export_format: str) -> StreamingHttpResponse:
    """A streamed download of one conversation; `export_format` must be a key of FORMATS."""
    content_type, render = FORMATS[export_format]
    turns = selectors.ordered_turns(conversation=conversation)
    turns = turn_rows(turns) if export_format == "json" else turns.iterator(chunk_size=CHUNK_SIZE)
    chunks = render(conversation, turns)
    return _attachment(chunks, content_type, filename_for(conversation, export_format))


# --- Many conversations (account export, admin action) -------------------------------------------


def _with_turns(conversations: QuerySet[Conversation]) -> Iterator[tuple[Conversation, Iterator[dict]]]:
    """Each conversation with its turn rows, from two queries whatever the number of conversations:
    both are read in the same order and merged as they stream. A conversation's rows are handed
    out one by one, never gathered in a list, so a huge conversation takes no more memory."""
    conversations = conversations.order_by("-created_at", "-pk")
    rows = turn_rows(
        Turn.objects.filter(conversation__in=conversations.values("pk")).order_by(
            "-conversation__created_at", "-conversation_id", *TURN_ORDER
        )
    )
    head = [next(rows, None)]  # the first row not handed out yet

    def rows_of(pk) -> Iterator[dict]:
        while head[0] is not None and head[0]["conversation_id"] == pk:
            yield head[0]
            head[0] = next(rows, None)

    for conversation in conversations.iterator(chunk_size=CHUNK_SIZE):
        own = rows_of(conversation.pk)
        yield conversation, own
        for _ in own:  # rows the caller left unread must not be taken for the next conversation's
            pass


def render_conversations_json(conversations: QuerySet[Conversation]) -> Iterator[str]:
    """A JSON array of the conversations, each as the single-conversation JSON export, streamed."""
    yield "["
    for index, (conversation, turns) in enumerate(_with_turns(conversations)):
        yield "," if index else ""
        yield from render_json(conversation, turns)
    yield "]"


def render_many_json(conversations: QuerySet[Conversation], header: dict) -> Iterator[str]:
    yield json_text(header)[:-1] + ', "conversations": '
    yield from render_conversations_json(conversations)
    yield "}\n"


def many_response(conversations: QuerySet[Conversation], *, header: dict, name: str) -> StreamingHttpResponse:
    """A streamed JSON download of several conversations with their turns."""
    filename = f"voiceapp-{slugify(name) or 'export'}-{timezone.localdate():%Y-%m-%d}.json"
    return _attachment(render_many_json(conversations, header), "application/json", filename)
