"""Admin review: conversations with read-only transcripts, usage totals per user and per day."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import InvalidPage, Paginator
from django.db.models import DurationField, ExpressionWrapper, F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from conversations import downloads, figures, search, selectors
from conversations.formatting import format_cost, format_duration
from conversations.models import TURN_FIELDS, Conversation, DailyQuota, SessionGrant, Turn, Usage

TOTALS_ROWS = 31


class TurnInline(admin.TabularInline):
    model = Turn
    classes = ("transcript",)
    fields = tuple(TURN_FIELDS.values())
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).in_order()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SearchPaginator(Paginator):
    """Pages of a search without a count of every match: one query reads page `number` and one row
    more, which tells whether another page follows. `count` is what that query knows: the matches
    up to this page, plus one when more follow (then `counted` is False)."""

    def __init__(self, object_list, per_page, *, number: int):
        super().__init__(object_list, per_page)
        self.number = number
        self._start = max(number - 1, 0) * per_page

    @cached_property
    def _rows(self) -> list:
        return list(self.object_list[self._start : self._start + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        return self._start + len(self._rows)

    @property
    def counted(self) -> bool:
        return len(self._rows) <= self.per_page

    def page(self, number):
        number = self.validate_number(number)
        if number != self.number:
            return super().page(number)
        return self._get_page(self._rows[: self.per_page], number, self)


class ConversationChangeList(ChangeList):
    """A search runs the transcript match once per page: no count of all matches (SearchPaginator),
    no date hierarchy (its first and last dates would run it again), no "show all"."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if self.query:
            self.date_hierarchy = None  # a date already chosen still filters (get_filters ran)

    def get_results(self, request):
        if not self.query:
            return super().get_results(request)
        paginator = SearchPaginator(self.queryset, self.list_per_page, number=self.page_num)
        try:
            self.result_list = paginator.page(self.page_num).object_list
        except InvalidPage:
            raise IncorrectLookupParameters from None
        self.paginator, self.result_count, self.full_result_count = paginator, paginator.count, None
        self.show_full_result_count, self.show_admin_actions = False, True
        self.can_show_all, self.multi_page = False, paginator.num_pages > 1


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("display_title", "owner", "started_at", "duration", "turns", "status", "model", "cost")
    list_filter = ("status", "upstream", "model", "started_at", "created_at")
    search_fields = ("title",)  # the search box; get_search_results does the searching
    search_help_text = "Searches titles, usernames and transcript text (whole words, as in the history page)."
    show_full_result_count = False  # a second count of every conversation per search page
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "owner",
        "status",
        "upstream",
        "model",
        "voice",
        "session_count",
        "created_at",
        "updated_at",
        "started_at",
        "ended_at",
        "turns",
        "duration",
        "cost",
    )
    fields = ("title", *readonly_fields)
    inlines = [TurnInline]
    actions = ["export_json"]

    class Media:
        css = {"all": ("css/admin-transcript.css",)}  # long texts and JSON wrap inside the page

    def get_queryset(self, request):
        # The figures are stored on the conversation (figures.py); only the duration is computed,
        # for sorting by it.
        duration = ExpressionWrapper(Coalesce("ended_at", "last_turn_at") - F("started_at"), DurationField())
        return super().get_queryset(request).annotate(duration_order=duration)

    def has_add_permission(self, request):
        return False  # conversations come from the talk page, not from the admin

    def get_changelist(self, request, **kwargs):
        return ConversationChangeList

    def get_search_results(self, request, queryset, search_term):
        return search.staff_search(queryset, search_term), False

    @admin.display(description="title", ordering="title")
    def display_title(self, obj):
        return obj.display_title

    @admin.display(description="duration", ordering="duration_order")
    def duration(self, obj):
        return format_duration(obj.elapsed) or "—"

    @admin.display(description="turns", ordering="turn_count")
    def turns(self, obj):
        return obj.turn_count

    @admin.display(description="cost (USD)", ordering="total_cost")
    def cost(self, obj):
        if not obj.price_known:
            return "price unknown"
        return format_cost(obj.total_cost)

    @admin.action(description="Export selected conversations as JSON")
    def export_json(self, request, queryset):
        header = {"exported_by": request.user.get_username(), "exported_at": timezone.now()}
        return downloads.many_response(queryset, header=header, name="admin-export")


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    """The usage ledger: tokens per response, or a GPT-Live session's billed seconds, each with its
    estimated cost; the list ends with totals per user and per day."""

    list_display = ("day", "user", "conversation", "model", "total_tokens", "seconds", "cost")
    list_filter = ("day", "model")
    search_fields = ("user__username",)
    list_select_related = ("user", "conversation")
    date_hierarchy = "day"
    readonly_fields = [f.name for f in Usage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        figures.recount([obj.conversation_id])  # the conversation's stored tokens and cost

    def delete_queryset(self, request, queryset):
        conversations = set(queryset.values_list("conversation_id", flat=True))
        super().delete_queryset(request, queryset)
        figures.recount(conversations)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data.update(selectors.usage_totals(changelist.queryset, rows=TOTALS_ROWS))
        return response


@admin.register(SessionGrant)
class SessionGrantAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "conversation",
        "model",
        "outcome",
        "upstream_status",
        "upstream_request_id",
        "upstream_session_id",
        "detail",
    )
    list_filter = ("outcome", "model", "created_at")
    search_fields = ("user__username", "upstream_request_id", "upstream_session_id")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in SessionGrant._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DailyQuota)
class DailyQuotaAdmin(admin.ModelAdmin):
    list_display = ("day", "user", "used")
    list_filter = ("day",)
    search_fields = ("user__username",)
    list_select_related = ("user",)
