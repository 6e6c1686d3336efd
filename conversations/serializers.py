"""Input and output shapes of the conversations API."""

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from conversations.models import (
    TOTAL_COST_DIGITS,
    TURN_FIELDS,
    USAGE_FIELDS,
    Conversation,
    Turn,
    Usage,
)


class RealtimeKeySerializer(serializers.Serializer):
    client_secret = serializers.CharField(help_text="Ephemeral key (ek_…) for the SDP exchange.")
    expires_at = serializers.IntegerField(help_text="When the key stops starting sessions (Unix seconds).")
    conversation = serializers.UUIDField()
    model = serializers.CharField()
    calls_url = serializers.URLField(help_text="POST the SDP offer here.")
    session = serializers.IntegerField(help_text="Number of this Realtime session within the conversation.")


# --- Turn ingest and history -------------------------------------------------------------------
# One policy for every body this API accepts: a field it does not know is an error (400), so that a
# typo or a read-only field ("model") never looks like it was saved. Only `usage` is let through as
# sent: it is OpenAI's object and may grow fields we do not read.


class StrictFieldsMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - {name for name, f in self.fields.items() if not f.read_only})
            if unknown:
                accepted = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                message = f"Unknown field. Accepted fields: {accepted}."
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class VoiceSessionRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    conversation = serializers.UUIDField(
        required=False, allow_null=True, help_text="Continue this conversation."
    )


# The most tokens of one kind a single response can plausibly use: above the largest context
# window (128k) with room to spare. The browser reports usage, so anything beyond is refused
# rather than counted (issue 16: 10**12 audio tokens was stored as a $64M response).
USAGE_TOKENS_MAX = 200_000


def _tokens() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0,
        max_value=USAGE_TOKENS_MAX,
        default=0,
        error_messages={
            "max_value": f"No response uses more than {USAGE_TOKENS_MAX:,} tokens; this figure is not plausible."
        },
    )


SDP_MAX_BYTES = 64 * 1024


class LiveSessionRequestSerializer(VoiceSessionRequestSerializer):
    """POST /live/session/: the browser's SDP offer (after ICE gathering), to relay to GPT-Live."""

    sdp = serializers.CharField(
        trim_whitespace=False,
        help_text="The SDP offer of the page's RTCPeerConnection, ICE candidates included.",
        error_messages={
            "required": "Send the SDP offer of your connection.",
            "blank": "The SDP offer is empty.",
            "invalid": "The SDP offer must be text.",
        },
    )

    def validate_sdp(self, value: str) -> str:
        if len(value.encode()) > SDP_MAX_BYTES:
            raise serializers.ValidationError("The SDP offer is larger than 64 KB.")
        if not value.startswith("v=0"):
            raise serializers.ValidationError("This is not an SDP offer (it must start with v=0).")
        return value


class LiveSessionSerializer(serializers.Serializer):
    sdp = serializers.CharField(help_text="The SDP answer: set it as the connection's remote description.")
    session_id = serializers.CharField(help_text="The GPT-Live session id (live_…).")
    conversation = serializers.UUIDField()
    session = serializers.IntegerField(help_text="Number of this voice session within the conversation.")
    model = serializers.CharField()


class VoiceSessionUsageInSerializer(StrictFieldsMixin, serializers.Serializer):
    """A GPT-Live usage snapshot (session.usage.updated or session.closed): cumulative seconds."""

    session = serializers.IntegerField(
        min_value=1, max_value=1_000_000, help_text="The voice session within the conversation."
    )
    seconds = serializers.FloatField(min_value=0, max_value=86_400, help_text="Billed seconds so far.")
    active_seconds = serializers.FloatField(min_value=0, max_value=86_400, required=False, allow_null=True)
    paused_seconds = serializers.FloatField(min_value=0, max_value=86_400, required=False, allow_null=True)


class VoiceSessionUsageSerializer(serializers.ModelSerializer):
    """The stored time line of one GPT-Live session."""

    seconds = serializers.FloatField()
    active_seconds = serializers.FloatField(allow_null=True)
    paused_seconds = serializers.FloatField(allow_null=True)

    class Meta:
        model = Usage
        fields = ["session", "seconds", "active_seconds", "paused_seconds", "model", "cost"]


class _CachedTokens(serializers.Serializer):
    text_tokens = _tokens()
    audio_tokens = _tokens()
    image_tokens = _tokens()


class _InputTokens(_CachedTokens):
    cached_tokens = _tokens()
    cached_tokens_details = _CachedTokens(required=False, allow_null=True)


class _OutputTokens(serializers.Serializer):
    text_tokens = _tokens()
    audio_tokens = _tokens()


class _ResponsesInputTokens(serializers.Serializer):
    cached_tokens = _tokens()


class _ResponsesOutputTokens(serializers.Serializer):
    reasoning_tokens = _tokens()


class UsageInSerializer(serializers.Serializer):
    """Token usage of one response, as the upstream reported it.

    Realtime: `response.usage` of `response.done` (`input_token_details`, `output_token_details`).
    GPT-Live: the delegation backend's Responses `ResponseUsage` (`input_tokens_details`,
    `output_tokens_details`), summed over the delegation's responses, on the tool turn.
    """

    total_tokens = _tokens()
    input_tokens = _tokens()
    output_tokens = _tokens()
    input_token_details = _InputTokens(required=False, allow_null=True)
    output_token_details = _OutputTokens(required=False, allow_null=True)
    input_tokens_details = _ResponsesInputTokens(required=False, allow_null=True)
    output_tokens_details = _ResponsesOutputTokens(required=False, allow_null=True)


class TurnInSerializer(StrictFieldsMixin, serializers.Serializer):
    """One turn as the browser posts it; a later post for the same item_id updates the turn.

    A plain Serializer (every field is declared): a ModelSerializer would inspect the model again
    on every post."""

    item_id = serializers.CharField(max_length=64)
    previous_item_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    session = serializers.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        allow_null=True,
        help_text="Realtime session number.",
    )
    position = serializers.IntegerField(
        min_value=0,
        max_value=2_147_483_647,
        required=False,
        allow_null=True,
        help_text="Creation order of the item within its Realtime session.",
    )
    role = serializers.ChoiceField(choices=Turn.Role.choices)
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    status = serializers.ChoiceField(choices=Turn.Status.choices, required=False)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    audio_end_ms = serializers.IntegerField(
        min_value=0, max_value=2_147_483_647, required=False, allow_null=True
    )
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="Tool name.")
    call_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    arguments = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    output = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    usage = UsageInSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        limit = settings.TURN_TEXT_MAX_LENGTH
        too_long = {
            name: [f"Ensure this field has no more than {limit} characters."]
            for name in ("text", "arguments", "output")
            if len(attrs.get(name) or "") > limit
        }
        if too_long:
            raise serializers.ValidationError(too_long)
        return attrs


# Validates turn bodies for every request, in every thread: DRF validates each item of a list with
# one shared child the same way (run_validation keeps no state on the serializer). Building a
# serializer's fields per post (a deep copy of each declared field) was ~70 % of the validation.
_TURN_BODY = TurnInSerializer()


def validated_turn_bodies(data) -> list[dict] | None:
    """The validated turns of a post (one body, or a list of up to TURN_BATCH_MAX), or None when
    anything is invalid: TurnInSerializer(data=…) then says what (same messages, same status)."""
    items = data if isinstance(data, list) else [data]
    if not 0 < len(items) <= settings.TURN_BATCH_MAX:
        return None
    try:
        return [_TURN_BODY.run_validation(item) for item in items]
    except serializers.ValidationError:
        return None


_DATETIMES = [
    name
    for name, field in TURN_FIELDS.items()
    if isinstance(Turn._meta.get_field(field), models.DateTimeField)
]


class UsageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Usage
        fields = list(USAGE_FIELDS)


def _iso(moment: datetime | None, zone) -> str | None:
    # The text DRF's DateTimeField gives.
    if moment is None:
        return None
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def turn_record(row: dict) -> dict:
    """A turn as TurnSerializer documents it, from a row of the Turn fields in TURN_FIELDS plus
    `usage__<field>` columns (selectors.transcript gives the same shape for the exports).

    Plain code instead of DRF fields: turns are written by the thousand (exports) and on every
    ingest post, where building serializer fields per turn dominated the time (docs/performance.md).
    """
    record = {name: row[field] for name, field in TURN_FIELDS.items()}
    zone = timezone.get_current_timezone()  # once per turn, not per field: it is a thread-local lookup
    for name in _DATETIMES:
        record[name] = _iso(record[name], zone)
    if row["usage__total_tokens"] is None:
        record["usage"] = None
    else:
        record["usage"] = {field: row[f"usage__{field}"] for field in USAGE_FIELDS}
        record["usage"]["cost"] = str(record["usage"]["cost"])
    return record


class TurnSerializer(serializers.ModelSerializer):
    """One turn of a conversation; `usage` is null when the turn reported none."""

    # The fields come from TURN_FIELDS, and turn_record writes exactly them: one shape.

    usage = UsageSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Turn
        fields = [*TURN_FIELDS, "usage"]
        read_only_fields = fields
        extra_kwargs = {name: {"source": field} for name, field in TURN_FIELDS.items() if name != field}

    def to_representation(self, turn):
        # Callers load turns with select_related("usage"); a missing row is then known without a query.
        try:
            usage = turn.usage
        except Usage.DoesNotExist:
            usage = None
        row = {field: getattr(turn, field) for field in TURN_FIELDS.values()}
        row.update({f"usage__{field}": getattr(usage, field) if usage else None for field in USAGE_FIELDS})
        return turn_record(row)


class ConversationSerializer(serializers.ModelSerializer):
    """A conversation with its turn count, tokens and estimated cost."""

    # The totals are stored on the conversation (conversations/figures.py).

    title = serializers.CharField(read_only=True)
    display_title = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    turn_count = serializers.IntegerField(read_only=True)
    total_tokens = serializers.IntegerField(read_only=True)
    cost = serializers.DecimalField(
        source="total_cost", max_digits=TOTAL_COST_DIGITS, decimal_places=6, read_only=True
    )
    price_known = serializers.BooleanField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "url",
            "title",
            "display_title",
            "status",
            "upstream",
            "model",
            "voice",
            "session_count",
            "created_at",
            "started_at",
            "ended_at",
            "duration_seconds",
            "turn_count",
            "total_tokens",
            "cost",
            "price_known",
        ]

    def get_url(self, conversation) -> str:
        return reverse("conversations:api-detail", args=[conversation.pk])

    def get_duration_seconds(self, conversation) -> int | None:
        elapsed = getattr(conversation, "elapsed", None)
        return max(int(elapsed.total_seconds()), 0) if elapsed is not None else None


class ConversationDetailSerializer(ConversationSerializer):
    turns = TurnSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "turns"]


class ConversationUpdateSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """PATCH body: a new title and/or {"status": "ended"}; every other field is read-only."""

    status = serializers.ChoiceField(choices=[Conversation.Status.ENDED], required=False)

    class Meta:
        model = Conversation
        fields = ["title", "status"]  # the title's rules come from the model, as on the history page

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError('Send a title, or status "ended".')
        return attrs
