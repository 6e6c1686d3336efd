"""REST API of conversations: session mint, turn ingest, history and export."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class _NotYet(APIView):
    def get(self, request, *args, **kwargs):
        return Response({"detail": "Not implemented yet."}, status=status.HTTP_501_NOT_IMPLEMENTED)

    post = patch = delete = get


SessionView = ConversationListView = ConversationDetailView = TurnIngestView = _NotYet
ConversationExportView = AccountExportView = _NotYet
