from django.contrib import admin

from accounts.models import ApiToken, InviteCode, Preference


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "voice", "language")
    search_fields = ("user__username",)
    list_select_related = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Names and dates only: the tokens themselves are never stored, and their hashes stay hidden."""

    list_display = ("name", "user", "created", "expiry")
    list_filter = ("created", "expiry")
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    fields = ("name", "user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # people create their own, on their profile page

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InviteCode)
class InviteCodeAdmin(admin.ModelAdmin):
    """With SIGNUP=invite, each code lets one person sign up: add one, then send its code."""

    list_display = ("code", "note", "created_at", "used_by", "used_at")
    list_filter = ("created_at", "used_at")
    search_fields = ("code", "note", "used_by__username")
    list_select_related = ("used_by",)
    readonly_fields = ("code", "created_at", "used_by", "used_at")

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.used_by_id is None  # a used code's record stays as it was
