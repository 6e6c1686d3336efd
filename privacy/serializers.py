"""Output shapes of the account data download (docs/account-data.md documents them)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import Preference
from conversations.models import DailyQuota, SessionGrant
from conversations.serializers import ConversationDetailSerializer, VoiceSessionUsageSerializer


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["username", "email", "first_name", "last_name", "date_joined", "last_login"]


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preference
        fields = ["voice", "language", "instructions"]


class ApiTokenSerializer(serializers.Serializer):
    """A token's name and dates; never the token or its hash."""

    name = serializers.CharField()
    created = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(source="expiry", allow_null=True)


class DailyQuotaSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyQuota
        fields = ["day", "used"]


class SessionRecordSerializer(serializers.ModelSerializer):
    """One voice session start (a minted Realtime key or a GPT-Live session), as audited; never a key."""

    class Meta:
        model = SessionGrant
        fields = [
            "created_at",
            "conversation",
            "model",
            "outcome",
            "upstream_status",
            "upstream_request_id",
            "upstream_session_id",
            "expires_at",
            "detail",
        ]


class SessionTimeSerializer(VoiceSessionUsageSerializer):
    """The billed time of one GPT-Live session (its usage is time, not tokens of a turn)."""

    class Meta(VoiceSessionUsageSerializer.Meta):
        fields = ["conversation", *VoiceSessionUsageSerializer.Meta.fields]


class AccountDataSerializer(serializers.Serializer):
    """The whole download (documents the schema; services.export_account streams the data)."""

    format = serializers.CharField(help_text='Always "voiceapp-account-data".')
    version = serializers.IntegerField(help_text="Version of this schema (1).")
    exported_at = serializers.DateTimeField()
    account = AccountSerializer()
    preferences = PreferenceSerializer()
    api_tokens = ApiTokenSerializer(many=True)
    daily_quotas = DailyQuotaSerializer(many=True)
    sessions = SessionRecordSerializer(many=True)
    session_time = SessionTimeSerializer(many=True)
    conversations = ConversationDetailSerializer(many=True)
