"""Per-user voice preferences applied to new Realtime sessions, API tokens, and invite codes."""

import secrets

from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken

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


class ApiToken(AbstractAuthToken):
    """An API token, stored as a hash (django-rest-knox): shown once when created, named, with an
    optional expiry (`expiry`; knox refuses and deletes a token past it), deleted when the owner's
    password changes. `token_key` is its first characters, for the lookup; never show it."""

    name = models.CharField(max_length=100, help_text="What the token is for.")

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.user})"


def new_invite_code() -> str:
    return secrets.token_urlsafe(9)


class InviteCode(models.Model):
    """A single-use code that lets one person sign up while SIGNUP=invite; staff issue them in the admin."""

    code = models.CharField(max_length=32, unique=True, default=new_invite_code, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for (only staff see it).")
    created_at = models.DateTimeField(auto_now_add=True)
    # Deleting the account deletes the code's record with it; a used code never becomes usable again.
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invite"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.code
