"""Per-user voice preferences applied to new Realtime sessions."""

from django.conf import settings
from django.db import models

# docs/realtime-api.md, "Models, voices and prices"
VOICES = ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
LANGUAGES = [
    ("", "Detect automatically"),
    ("en", "English"),
    ("de", "German"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("zh", "Chinese"),
]


class Preference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    voice = models.CharField(max_length=20, blank=True, choices=[(v, v.title()) for v in VOICES])
    instructions = models.TextField(
        blank=True, max_length=2000, help_text="Added to the assistant's instructions for new sessions."
    )
    language = models.CharField(
        max_length=8, blank=True, choices=LANGUAGES, help_text="The language you speak (helps transcription)."
    )

    def __str__(self):
        return f"Preferences of {self.user}"
