from django.contrib import admin

from accounts.models import Preference


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "voice", "language")
    search_fields = ("user__username",)
    list_select_related = ("user",)
