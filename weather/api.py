"""Weather tool API."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class WeatherView(APIView):
    def get(self, request):
        return Response({"detail": "Not implemented yet."}, status=status.HTTP_501_NOT_IMPLEMENTED)
