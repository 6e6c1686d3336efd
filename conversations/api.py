"""REST API of conversations: voice session start, turn and usage ingest, history and export."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import downloads, exports, minting, selectors, services
from conversations.filters import ConversationFilter
from conversations.models import Conversation
from conversations.pagination import ConversationPagination
from conversations.serializers import (
    ConversationDetailSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    LiveSessionRequestSerializer,
    LiveSessionSerializer,
    RealtimeKeySerializer,
    TurnInSerializer,
    TurnSerializer,
    VoiceSessionRequestSerializer,
    VoiceSessionUsageInSerializer,
    VoiceSessionUsageSerializer,
    validated_turn_bodies,
)


class BoundedJSONParser(JSONParser):
    """JSON with a byte limit. DRF reads the body stream itself, so Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE check never runs for JSON; this applies the same limit.
    Django never reads past CONTENT_LENGTH, so checking the declared length is enough."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            declared = int(parser_context["request"].META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if limit is not None and declared > limit:
            raise RequestDataTooBig("The request body is too large.")
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError:
            raise ParseError("The request body is not valid JSON.") from None
        except RecursionError:
            # The decoder recurses per nesting level; no body we accept is nested more than a few.
            raise ParseError("The request body is nested too deeply.") from None


@method_decorator(never_cache, name="dispatch")
class VoiceSessionStartView(APIView):
    """What both ways of starting a voice session share: the policy."""

    # Only the page's own (Django) session: a leaked API token must not be able to start voice
    # sessions, which cost money.
    authentication_classes = [SessionAuthentication]
    parser_classes = [BoundedJSONParser]
    throttle_scope = "mint"


class RealtimeKeyView(VoiceSessionStartView):
    """Mint a short-lived Realtime key for the logged-in user's browser (never the server key)."""

    @extend_schema(
        description="VOICE_API=realtime only; with VOICE_API=live it answers 409 (use /live/session/).",
        request=VoiceSessionRequestSerializer,
        responses={201: RealtimeKeySerializer},
    )
    def post(self, request):
        body = VoiceSessionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = minting.start_voice_session(
            user=request.user, upstream="realtime", conversation_id=body.validated_data.get("conversation")
        )
        return Response(RealtimeKeySerializer(grant).data, status=status.HTTP_201_CREATED)


class LiveSessionStartView(VoiceSessionStartView):
    """Start a GPT-Live session: relay the page's SDP offer upstream with the server key, return the answer."""

    @extend_schema(
        description=(
            "VOICE_API=live only; with VOICE_API=realtime it answers 409 (use /realtime/session/). "
            "Each call opens (and bills) one GPT-Live session; it is never retried."
        ),
        request=LiveSessionRequestSerializer,
        responses={201: LiveSessionSerializer},
    )
    def post(self, request):
        body = LiveSessionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        started = minting.start_voice_session(
            user=request.user,
            upstream="live",
            conversation_id=body.validated_data.get("conversation"),
            offer_sdp=body.validated_data["sdp"],
        )
        return Response(LiveSessionSerializer(started).data, status=status.HTTP_201_CREATED)


class DownloadNegotiation(DefaultContentNegotiation):
    """`?format=` names an export format here, not a DRF renderer; errors are still JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ConversationListView(generics.ListAPIView):
    """The user's conversations, newest first, with turn counts, tokens and estimated cost."""

    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    pagination_class = ConversationPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Conversation.objects.none()
        return selectors.owned_conversations(user=self.request.user)

    @extend_schema(operation_id="conversations_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ConversationDetailView(APIView):
    """One conversation with its ordered turns; PATCH renames or ends it; DELETE removes it."""

    parser_classes = [BoundedJSONParser]

    def _get(self, request, pk) -> Conversation:
        return selectors.owned_conversation(user=request.user, pk=pk)

    @extend_schema(operation_id="conversations_retrieve", responses=ConversationDetailSerializer)
    def get(self, request, pk):
        queryset = selectors.with_ordered_turns(Conversation.objects.all())
        conversation = selectors.owned_conversation(user=request.user, pk=pk, queryset=queryset)
        return Response(ConversationDetailSerializer(conversation).data)

    @extend_schema(
        operation_id="conversations_update",
        request=ConversationUpdateSerializer,
        responses=ConversationSerializer,
    )
    def patch(self, request, pk):
        conversation = self._get(request, pk)
        body = ConversationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.update_conversation(conversation=conversation, **body.validated_data)
        return Response(ConversationSerializer(self._get(request, pk)).data)

    @extend_schema(operation_id="conversations_destroy", responses={204: None})
    def delete(self, request, pk):
        services.delete_conversation(conversation=selectors.owned_conversation(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TurnIngestView(APIView):
    """Store one turn, or a JSON list of turns (catching up after a network drop)."""

    throttle_scope = "turns"
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="conversations_turns_create",
        description=(
            "Idempotent on item_id: a new item answers 201, a repeated or updated one 200. "
            "The body may also be a JSON list of up to TURN_BATCH_MAX turns; the answer is then a list."
        ),
        request=TurnInSerializer,
        responses={201: TurnSerializer, 200: TurnSerializer},
    )
    def post(self, request, pk):
        batch = isinstance(request.data, list)
        items = validated_turn_bodies(request.data)
        if items is None:
            if batch:
                body = TurnInSerializer(
                    data=request.data, many=True, allow_empty=False, max_length=settings.TURN_BATCH_MAX
                )
            else:
                body = TurnInSerializer(data=request.data)
            if not body.is_valid():
                selectors.owned_conversation(user=request.user, pk=pk)  # someone else's: 404, not 400
                raise serializers.ValidationError(body.errors)
            items = body.validated_data if batch else [body.validated_data]
        turns, created = services.ingest_turns(user=request.user, conversation_id=pk, turns=items)
        data = TurnSerializer(turns, many=True).data if batch else TurnSerializer(turns[0]).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class VoiceSessionUsageView(APIView):
    """Store a GPT-Live session's usage snapshot (cumulative seconds) in the usage ledger."""

    throttle_scope = "turns"
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="conversations_usage_create",
        description=(
            "Upsert of one GPT-Live session's time snapshot, from session.usage.updated or "
            "session.closed. Snapshots are cumulative: a number smaller than the stored one is "
            "ignored, never summed. A new session line answers 201, an update 200."
        ),
        request=VoiceSessionUsageInSerializer,
        responses={201: VoiceSessionUsageSerializer, 200: VoiceSessionUsageSerializer},
    )
    def post(self, request, pk):
        conversation = selectors.owned_conversation(user=request.user, pk=pk)
        body = VoiceSessionUsageInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        line, created = services.record_session_time(conversation=conversation, **body.validated_data)
        return Response(
            VoiceSessionUsageSerializer(line).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _export_format(request, allowed) -> str:
    chosen = request.query_params.get("format", "json")
    if chosen not in allowed:
        raise ParseError(f'Unknown export format "{chosen}". Use one of: {", ".join(allowed)}.')
    return chosen


FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=list(exports.FORMATS), default="json", description="File format of the download."
)


class ConversationExportView(APIView):
    """Download one conversation as JSON, Markdown, text, CSV or SRT subtitles."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="conversations_export",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "application/json"): OpenApiResponse(
                ConversationDetailSerializer, description="format=json, as an attachment."
            ),
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.STR, description=f"format={name}, as an attachment."
                )
                for name, (content_type, _) in exports.FORMATS.items()
                if name != "json"
            },
        },
    )
    def get(self, request, pk):
        export_format = _export_format(request, list(exports.FORMATS))
        conversation = selectors.owned_conversation(user=request.user, pk=pk)
        return downloads.conversation_response(conversation, export_format)


class AccountExportView(APIView):
    """Download every conversation of the user, with turns, as one JSON document."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="account_export",
        parameters=[OpenApiParameter("format", str, enum=["json"], default="json")],
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "AccountExport",
                    {
                        "user": serializers.CharField(),
                        "exported_at": serializers.DateTimeField(),
                        "conversations": ConversationDetailSerializer(many=True),
                    },
                ),
                description="Every conversation with its turns, as an attachment.",
            )
        },
    )
    def get(self, request):
        _export_format(request, ["json"])
        header = {"user": request.user.get_username(), "exported_at": timezone.now()}
        return downloads.many_response(
            selectors.account_conversations(user=request.user),
            header=header,
            name=request.user.get_username(),
        )
