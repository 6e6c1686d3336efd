"""Input and output shapes of the conversations API."""

from rest_framework import serializers


class SessionRequestSerializer(serializers.Serializer):
    conversation = serializers.UUIDField(required=False, allow_null=True, help_text="Continue this conversation.")


class SessionGrantSerializer(serializers.Serializer):
    client_secret = serializers.CharField(help_text="Ephemeral key (ek_…) for the SDP exchange.")
    expires_at = serializers.IntegerField(help_text="When the key stops starting sessions (Unix seconds).")
    conversation = serializers.UUIDField()
    model = serializers.CharField()
    calls_url = serializers.URLField(help_text="POST the SDP offer here.")
    session = serializers.IntegerField(help_text="Number of this Realtime session within the conversation.")
