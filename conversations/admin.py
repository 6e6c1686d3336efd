from django.contrib import admin

from conversations.models import Conversation, DailyQuota, SessionGrant, Turn, Usage


class TurnInline(admin.TabularInline):
    model = Turn
    fields = ("session", "position", "role", "status", "text", "tool_name", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "created_at", "status", "model")
    list_filter = ("status", "model", "created_at")
    search_fields = ("title", "owner__username")
    list_select_related = ("owner",)
    inlines = [TurnInline]


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
    )
    list_filter = ("outcome", "model", "created_at")
    search_fields = ("user__username", "upstream_request_id")
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


admin.site.register(Usage)
