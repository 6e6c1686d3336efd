"""Weather tool API: what the assistant's get_weather function calls, through the browser."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from weather import services
from weather.serializers import (
    WeatherErrorSerializer,
    WeatherQueryErrorSerializer,
    WeatherQuerySerializer,
    WeatherSerializer,
)


class WeatherView(APIView):
    """Current weather for a place name, in words and numbers the assistant can speak."""

    throttle_scope = "weather"

    @extend_schema(
        tags=["weather"],
        parameters=[WeatherQuerySerializer],
        responses={
            200: WeatherSerializer,
            400: OpenApiResponse(
                WeatherQueryErrorSerializer, description="The location or language is invalid."
            ),
            401: OpenApiResponse(WeatherErrorSerializer, description="Not logged in and no valid token."),
            404: OpenApiResponse(WeatherErrorSerializer, description="No place matches the location."),
            429: OpenApiResponse(WeatherErrorSerializer, description="Too many requests; see Retry-After."),
            502: OpenApiResponse(
                WeatherErrorSerializer, description="Open-Meteo failed or refused the request."
            ),
            504: OpenApiResponse(WeatherErrorSerializer, description="Open-Meteo did not answer in time."),
        },
    )
    def get(self, request):
        query = WeatherQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(WeatherSerializer(services.current_weather(**query.validated_data)).data)
