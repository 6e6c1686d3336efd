"""HTML pages: the talk page and the conversation history."""

import uuid

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from conversations.models import Conversation


def _get_conversation_or_404(user, conversation_id) -> Conversation:
    try:
        pk = uuid.UUID(str(conversation_id))
    except ValueError:
        raise Http404("No such conversation.") from None
    return get_object_or_404(Conversation.objects.for_user(user), pk=pk)


def talk(request):
    """The voice chat page; `?conversation=<uuid>` continues one of the user's conversations."""
    conversation = None
    turns = []
    if conversation_id := request.GET.get("conversation"):
        conversation = _get_conversation_or_404(request.user, conversation_id)
        turns = list(conversation.turns.values("item_id", "role", "text", "status"))
    talk_config = {
        "sessionUrl": reverse("conversations:session"),
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


def conversation_list(request):
    conversations = Conversation.objects.for_user(request.user)
    return render(request, "conversations/conversation_list.html", {"conversations": conversations})


def conversation_detail(request, pk):
    conversation = _get_conversation_or_404(request.user, pk)
    return render(
        request,
        "conversations/conversation_detail.html",
        {"conversation": conversation, "turns": conversation.turns.all()},
    )
