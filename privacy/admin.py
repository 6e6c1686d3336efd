"""Django's user admin, with deletion that removes everything of the user."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from privacy import services

admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    """Django's user admin, except that deleting a user (the button or the "Delete selected" action)
    deletes everything of theirs as the user's own "Delete my account" does."""

    def delete_model(self, request, obj):
        services.delete_account(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.delete_account(user=user)
