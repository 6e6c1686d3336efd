"""Conversations, their turns, and the audit and usage records of voice sessions (Realtime or GPT-Live)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from conversations import prices

# How turns are listed everywhere (pages, API, exports, admin): the Realtime session, the position
# in it, then how many previous_item_id links after that position the server placed the turn.
TURN_ORDER = ("session", "position", "link_depth", "id")

# The one shape of a turn outside the database, API name -> Turn field: ingest, the API, exports, the
# admin and the bench baseline all read it. The API says "name" for the tool's name.
TURN_FIELDS = {
    "item_id": "item_id",
    "previous_item_id": "previous_item_id",
    "session": "session",
    "position": "position",
    "role": "role",
    "text": "text",
    "status": "status",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "audio_end_ms": "audio_end_ms",
    "name": "tool_name",
    "call_id": "call_id",
    "arguments": "arguments",
    "output": "output",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


# The figures of a conversation's turns and usage, stored on it (conversations/figures.py).
FIGURES = ("turn_count", "total_tokens", "total_cost", "last_turn_at")
# Sums of usage costs (a conversation's, a day's): room for any number of rows at USAGE_COST_MAX.
TOTAL_COST_DIGITS = 24


class ConversationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(owner=user)


class Conversation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class Upstream(models.TextChoices):
        REALTIME = "realtime", "OpenAI Realtime"
        LIVE = "live", "GPT-Live"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    model = models.CharField(max_length=64, blank=True)
    voice = models.CharField(max_length=32, blank=True)
    # The voice API of its latest session (VOICE_API): it decides how usage reports are read.
    upstream = models.CharField(max_length=10, choices=Upstream, default=Upstream.REALTIME)
    # How many voice sessions were opened for this conversation; turns carry their session number.
    session_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The figures of its turns and usage, stored so that a list reads them with its rows. Every write
    # of a turn or a usage line changes them in the same statement or transaction, by increments
    # (conversations/figures.py says which path does what); figures.counted() recounts them.
    turn_count = models.PositiveIntegerField(default=0, editable=False)
    total_tokens = models.PositiveBigIntegerField(default=0, editable=False)
    total_cost = models.DecimalField(
        max_digits=TOTAL_COST_DIGITS, decimal_places=6, default=Decimal(0), editable=False
    )
    # The latest of its turns' times (each turn's end, else its start, else when it was stored): the
    # end of a started conversation's duration while it has no end of its own.
    last_turn_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="conversation_owner_recent")]

    def __str__(self):
        return self.title or f"Conversation {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # A stored conversation's save never writes its figures back: they may have grown since it
        # was read, and only the write paths' increments change them (conversations/figures.py).
        if not self._state.adding and kwargs.get("update_fields") is None and not args:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in FIGURES
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("conversations:detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        return str(self)

    @property
    def elapsed(self):
        """Its duration: from its start to its end, or to its last turn while it has no end; None
        before it started."""
        end = self.ended_at or self.last_turn_at
        return end - self.started_at if end is not None and self.started_at is not None else None

    @property
    def price_known(self) -> bool:
        """Whether a price table has this conversation's model, so that its cost can be estimated."""
        return prices.price_known(self.model)


class TurnQuerySet(models.QuerySet):
    def in_order(self):
        return self.order_by(*TURN_ORDER)

    def api_values(self, *names: str):
        """values() keyed by API names (TURN_FIELDS): "name" holds the tool's name."""
        return self.values(
            *(name for name in names if TURN_FIELDS[name] == name),
            **{name: models.F(TURN_FIELDS[name]) for name in names if TURN_FIELDS[name] != name},
        )


class Turn(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"
        TOOL = "tool", "Tool"

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        INTERRUPTED = "interrupted", "Interrupted"
        FAILED = "failed", "Failed"

    # No index of its own: the unique (conversation, item_id) and turn_conversation_order both
    # start with it, and serve every lookup by conversation (its cascade included).
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="turns", db_index=False
    )
    item_id = models.CharField(max_length=64, help_text="The Realtime conversation item id.")
    previous_item_id = models.CharField(max_length=64, blank=True)
    role = models.CharField(max_length=10, choices=Role)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.COMPLETED)
    # The ordering key (TURN_ORDER): the number of the voice session within the conversation, then
    # the item's position within that session.
    session = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(default=0)
    # A post without `position` is placed by the server: right after its previous_item_id turn
    # (same session and position, one link deeper), else at the end of its session. Such turns
    # move when their predecessor arrives later (services.record_turn).
    position_assigned = models.BooleanField(
        default=False, help_text="The post carried no position; the server placed the turn."
    )
    link_depth = models.PositiveIntegerField(
        default=0, help_text="Links after the turn whose session and position this one shares."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    audio_end_ms = models.PositiveIntegerField(null=True, blank=True)
    tool_name = models.CharField(max_length=64, blank=True)
    call_id = models.CharField(max_length=64, blank=True)
    arguments = models.TextField(blank=True)
    output = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TurnQuerySet.as_manager()

    class Meta:
        ordering = ["conversation", *TURN_ORDER]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "item_id"], name="turn_unique_item_per_conversation"
            ),
            models.CheckConstraint(condition=~Q(item_id=""), name="turn_item_id_not_empty"),
            models.CheckConstraint(
                condition=Q(role__in=["user", "assistant", "tool"]), name="turn_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["completed", "interrupted", "failed"]), name="turn_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", *TURN_ORDER], name="turn_conversation_order"),
            models.Index(
                fields=["conversation", "previous_item_id"],
                condition=Q(position_assigned=True),
                name="turn_placed_by_link",
            ),
        ]

    def __str__(self):
        return f"{self.role} {self.item_id}"


class SessionGrant(models.Model):
    """Audit of one session start (a Realtime key mint or a GPT-Live create): who, for which
    conversation, and how it went. Never a key."""

    class Outcome(models.TextChoices):
        GRANTED = "granted", "Granted"
        QUOTA_EXCEEDED = "quota_exceeded", "Quota exceeded"
        BUDGET_SPENT = "budget_spent", "Site's daily budget spent"
        NOT_CONFIGURED = "not_configured", "Not configured"
        UPSTREAM_ERROR = "upstream_error", "Upstream error"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_grants"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="grants"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    model = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome)
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    upstream_request_id = models.CharField(max_length=100, blank=True)
    upstream_session_id = models.CharField(
        max_length=100, blank=True, help_text="The GPT-Live session id (live_…), for support and ownership."
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class DailyQuota(models.Model):
    """How many sessions a user minted on one day; updated with one conditional UPDATE."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_quotas")
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="quota_unique_user_day")]

    def __str__(self):
        return f"{self.user} {self.day}: {self.used}"


# What a usage row's columns can hold on every database (PostgreSQL integer, decimal(12, 6)).
# SQLite would store more, and the pages reading the row back would fail; the constraints below
# keep every row inside (issue 16). Plausible figures are far smaller (serializers.USAGE_TOKENS_MAX).
USAGE_COUNT_MAX = 2_147_483_647
USAGE_COST_MAX = Decimal("999999.999999")
# The token counts of a usage row: stored by services, shown by the API and exports, bounded below.
USAGE_COUNTS = ("text_in", "text_cached", "audio_in", "audio_cached", "text_out", "audio_out", "total_tokens")
# The usage of a turn as the API and the exports give it.
USAGE_FIELDS = (*USAGE_COUNTS, "cost")


class Usage(models.Model):
    """One line of the usage ledger, with its estimated cost in USD. Either:

    - the tokens of one response, on its turn (Realtime `response.done`; GPT-Live: the delegation
      backend's tokens on the tool turn). Input counts include their cached part; or
    - the session time of one GPT-Live session (`turn` empty, `session` set): the latest cumulative
      snapshot of its billed seconds.
    """

    turn = models.OneToOneField(Turn, on_delete=models.CASCADE, related_name="usage", null=True, blank=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="usages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usages")
    model = models.CharField(max_length=64, blank=True)
    day = models.DateField(db_index=True)
    text_in = models.PositiveIntegerField(default=0)
    text_cached = models.PositiveIntegerField(default=0)
    audio_in = models.PositiveIntegerField(default=0)
    audio_cached = models.PositiveIntegerField(default=0)
    text_out = models.PositiveIntegerField(default=0)
    audio_out = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    session = models.PositiveIntegerField(
        null=True, blank=True, help_text="The voice session within the conversation (session time only)."
    )
    seconds = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    active_seconds = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    paused_seconds = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)

    class Meta:
        verbose_name_plural = "usage"
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{count}__lte": USAGE_COUNT_MAX for count in USAGE_COUNTS}),
                name="usage_counts_fit_their_columns",
            ),
            models.CheckConstraint(
                condition=Q(cost__gte=0, cost__lte=USAGE_COST_MAX), name="usage_cost_fits_its_column"
            ),
            models.UniqueConstraint(
                fields=["conversation", "session"],
                condition=Q(turn__isnull=True),
                name="usage_one_time_line_per_session",
            ),
            models.CheckConstraint(
                condition=Q(turn__isnull=False) | Q(session__isnull=False, seconds__isnull=False),
                name="usage_for_a_turn_or_a_session",
            ),
        ]

    def __str__(self):
        if self.turn_id is None:
            return f"{self.seconds} s ${self.cost}"
        return f"{self.total_tokens} tokens ${self.cost}"
