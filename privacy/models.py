"""Downloads of all of an account's data, prepared in the background."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone


def _export_storage():
    # Private files, never under a public URL: they are served by privacy.views to their owner only.
    return storages["exports"]


class DataExport(models.Model):
    class Status(models.TextChoices):
        PREPARING = "preparing", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status, default=Status.PREPARING)
    conversations_total = models.PositiveIntegerField(default=0)
    conversations_done = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=_export_storage, upload_to="data-exports/", blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes of the file.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"data export of {self.user} ({self.status})"

    @property
    def expires_at(self):
        return (self.finished_at or self.created_at) + timedelta(days=settings.DATA_EXPORT_KEEP_DAYS)

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def stalled(self) -> bool:
        """Preparing, but no progress for a long time: the process that built it stopped."""
        return self.status == self.Status.PREPARING and timezone.now() - self.updated_at > timedelta(
            seconds=settings.DATA_EXPORT_STALLED_SECONDS
        )

    @property
    def percent(self) -> int:
        if not self.conversations_total:
            return 0
        return min(100, 100 * self.conversations_done // self.conversations_total)
