"""HTML pages: the talk page and the conversation history."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from conversations import pagination, search, selectors, services
from conversations.forms import RenameForm
from conversations.history_rows import history_rows_html
from conversations.models import Conversation

PAGE_SIZE = 20
EXPORT_FORMATS = [
    ("md", "Markdown"),
    ("txt", "Text"),
    ("json", "JSON"),
    ("csv", "CSV"),
    ("srt", "Subtitles (SRT)"),
]


def talk(request):
    """The voice chat page; `?conversation=<uuid>` continues one of the user's conversations."""
    conversation = None
    turns = []
    if conversation_id := request.GET.get("conversation"):
        conversation = selectors.owned_conversation(user=request.user, pk=conversation_id)
        # The page shows a tool turn by its text, else by the tool's name.
        turns = list(
            selectors.ordered_turns(conversation=conversation).api_values(
                "item_id", "role", "text", "status", "name"
            )
        )
    live = settings.VOICE_API == "live"
    talk_config = {
        "upstream": settings.VOICE_API,
        # Realtime: mint a key, then post the offer to OpenAI; GPT-Live: post the offer to us.
        "sessionUrl": reverse("conversations:live-session" if live else "conversations:realtime-key"),
        "weatherUrl": reverse("weather:current"),
        "conversationsUrl": reverse("conversations:api-list"),
        "historyUrl": reverse("conversations:list"),
        "csrfToken": get_token(request),
        "conversation": str(conversation.pk) if conversation else None,
        "sessionLimitSeconds": settings.REALTIME_SESSION_LIMIT_SECONDS,
        "turns": turns,
    }
    return render(
        request, "conversations/talk.html", {"talk_config": talk_config, "conversation": conversation}
    )


@never_cache
def conversation_list(request):
    """The user's conversations, newest first; `?q=` searches titles and transcripts."""
    query = search.clean_query(request.GET.get("q", ""))
    if query:
        # One query per page: counting every match would read all of them (conversations/search.py).
        number = _page_number(request.GET.get("page"))
        found = selectors.search_conversations(selectors.owned_conversations(user=request.user), query)
        rows, has_next = search.page_of(found, number, PAGE_SIZE)
        page = {"number": number, "has_next": has_next, "has_previous": number > 1}
    else:
        number = request.GET.get("page")
        paginated = _history_page(request.user, number or 1)
        if paginated is None:  # not a page with rows ("last", out of range, no conversations)
            paginated = Paginator(selectors.owned_conversations(user=request.user), PAGE_SIZE).get_page(
                number
            )
        rows = list(paginated.object_list)
        page = {
            "number": paginated.number,
            "num_pages": paginated.paginator.num_pages,
            "has_next": paginated.has_next(),
            "has_previous": paginated.has_previous(),
        }
    page["previous"], page["next"] = page["number"] - 1, page["number"] + 1
    context = {"page": page, "conversations": rows, "rows_html": history_rows_html(rows, query), "q": query}
    return render(request, "conversations/conversation_list.html", context)


def _history_page(user, number) -> Page | None:
    """Page `number` with rows, read with its count in one statement (selectors.history_page); None
    otherwise: the paginator's get_page() then decides, as counted_page leaves it to. No queryset is
    built for it (building one cost ~0.2 ms of the page's CPU)."""
    number = pagination.row_page_number(number)
    if number is None:
        return None
    rows, count = selectors.history_page(user=user, number=number, per_page=PAGE_SIZE)
    if not rows:
        return None
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = count  # of all the user's conversations, not of this page's rows
    return Page(rows, number, paginator)


def _page_number(text: str | None) -> int:
    try:
        return max(int(text or 1), 1)
    except ValueError:
        return 1


def _detail_context(conversation: Conversation, form: RenameForm) -> dict:
    return {
        "conversation": conversation,
        "turns": selectors.ordered_turns(conversation=conversation),
        "form": form,
        "formats": EXPORT_FORMATS,
        "export_url": reverse("conversations:api-export", args=[conversation.pk]),
    }


@never_cache
def conversation_detail(request, pk):
    conversation = selectors.owned_conversation(user=request.user, pk=pk)
    form = RenameForm(initial={"title": conversation.title})
    return render(request, "conversations/conversation_detail.html", _detail_context(conversation, form))


@require_POST
def conversation_rename(request, pk):
    conversation = selectors.owned_conversation(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if not form.is_valid():
        context = _detail_context(conversation, form)
        return render(request, "conversations/conversation_detail.html", context, status=400)
    services.update_conversation(conversation=conversation, title=form.cleaned_data["title"])
    messages.success(request, "The conversation was renamed.")
    return redirect(conversation)


@never_cache
@require_http_methods(["GET", "POST"])
def conversation_delete(request, pk):
    """GET asks for confirmation; POST deletes the conversation and its transcript."""
    conversation = selectors.owned_conversation(user=request.user, pk=pk)
    if request.method == "POST":
        services.delete_conversation(conversation=conversation)
        messages.success(request, f"“{conversation.display_title}” was deleted.")
        return redirect("conversations:list")
    return render(request, "conversations/conversation_confirm_delete.html", {"conversation": conversation})
