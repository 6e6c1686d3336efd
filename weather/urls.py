from django.urls import path

from weather import api

app_name = "weather"

urlpatterns = [
    path("api/weather/", api.WeatherView.as_view(), name="current"),
]
