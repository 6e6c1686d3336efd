"""REST API of conversations: session mint, turn ingest, history and export."""

from django.views.decorators.cache import never_cache
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import minting
from conversations.serializers import SessionGrantSerializer, SessionRequestSerializer


@method_decorator(never_cache, name="dispatch")
class SessionView(APIView):
    """Mint a short-lived Realtime key for the logged-in user's browser (never the server key)."""

    # Only the page's own session: a leaked API token must not be able to mint voice sessions.
    authentication_classes = [SessionAuthentication]
    throttle_scope = "mint"

    @extend_schema(request=SessionRequestSerializer, responses={201: SessionGrantSerializer})
    def post(self, request):
        body = SessionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = minting.mint_session(user=request.user, conversation_id=body.validated_data.get("conversation"))
        return Response(SessionGrantSerializer(grant).data, status=status.HTTP_201_CREATED)


class _NotYet(APIView):
    def get(self, request, *args, **kwargs):
        return Response({"detail": "Not implemented yet."}, status=status.HTTP_501_NOT_IMPLEMENTED)

    post = patch = delete = get


ConversationListView = ConversationDetailView = TurnIngestView = _NotYet
ConversationExportView = AccountExportView = _NotYet
