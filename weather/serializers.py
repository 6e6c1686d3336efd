"""Input and output shapes of the weather API."""

from rest_framework import serializers


class WeatherQuerySerializer(serializers.Serializer):
    location = serializers.CharField(
        max_length=100,
        help_text="A place name in any language, optionally with region or country: “Amsterdam”, “São Paulo”.",
        error_messages={
            "required": "Say which place you want the weather for.",
            "blank": "Say which place you want the weather for.",
            "max_length": "That place name is too long; use at most {max_length} characters.",
        },
    )
    language = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        default="en",
        help_text="Two-letter language code for the place name, such as “en” or “de”.",
        error_messages={"invalid": "Use a two-letter language code, such as “en”."},
    )

    def validate_language(self, value):
        return value.lower()


class WeatherUnitsSerializer(serializers.Serializer):
    temperature = serializers.CharField(help_text="For example “°C”.")
    apparent_temperature = serializers.CharField()
    humidity = serializers.CharField(help_text="“%”.")
    wind_speed = serializers.CharField(help_text="For example “km/h”.")


class WeatherSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="Place, region and country of the match.")
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    temperature = serializers.FloatField(allow_null=True)
    apparent_temperature = serializers.FloatField(allow_null=True, help_text="What it feels like.")
    humidity = serializers.IntegerField(allow_null=True, help_text="Relative humidity.")
    wind_speed = serializers.FloatField(allow_null=True, help_text="Wind speed 10 m above the ground.")
    conditions = serializers.CharField(help_text="The WMO weather code in words, such as “light rain”.")
    units = WeatherUnitsSerializer()
    observed_at = serializers.DateTimeField(help_text="Local time of the observation, with its UTC offset.")


class WeatherErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence the assistant can read out.")


class WeatherQueryErrorSerializer(serializers.Serializer):
    location = serializers.ListField(child=serializers.CharField(), required=False)
    language = serializers.ListField(child=serializers.CharField(), required=False)
