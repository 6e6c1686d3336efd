"""Streamed downloads of conversations: the one place an export meets the database and HTTP."""

from collections.abc import Callable, Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from conversations import exports, selectors, sql_json
from conversations.models import Conversation


def attachment(chunks: Iterator[str], content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def conversation_response(conversation: Conversation, export_format: str) -> StreamingHttpResponse:
    """A streamed download of one conversation (with its stored figures); `export_format`
    must be a key of exports.FORMATS."""
    content_type, render = exports.FORMATS[export_format]
    chunks = render(conversation, selectors.transcript(conversation=conversation))
    return attachment(chunks, content_type, exports.filename_for(conversation, export_format))


def many_response(conversations: QuerySet[Conversation], *, header: dict, name: str) -> StreamingHttpResponse:
    """A streamed JSON download of several conversations (with their stored figures) with their turns."""
    filename = f"voiceapp-{slugify(name) or 'export'}-{timezone.localdate():%Y-%m-%d}.json"
    chunks = exports.render_many_json(header, conversations_json(conversations))
    return attachment(chunks, "application/json", filename)


def conversations_json(
    conversations: QuerySet[Conversation], progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The conversations (with their stored figures) with their turns as one JSON array,
    streamed: written by PostgreSQL where it can (sql_json, the same bytes), else by Python.
    `progress` is told how many conversations are written so far."""
    if sql_json.available():
        return sql_json.render_conversations_json(conversations, progress)
    transcripts = selectors.transcripts(conversations)
    if progress:
        transcripts = _counted(transcripts, progress)
    return (chunk.encode() for chunk in exports.render_conversations_json(transcripts))


def _counted(items: Iterable, progress: Callable[[int], None]) -> Iterator:
    for done, item in enumerate(items, start=1):
        yield item  # the caller writes the conversation before asking for the next
        progress(done)
