"""Django's user admin, with a download of a user's data and a deletion that removes all of it."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from privacy import services
from privacy.api import account_data_response

admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    """Django's user admin, except that deleting a user (the button or the "Delete selected" action)
    deletes everything of theirs as the user's own "Delete my account" does; staff can download a
    user's data as the user can (to answer a request made by e-mail, say)."""

    actions = ["download_data"]

    @admin.action(description="Download all data of the selected user (JSON)")
    def download_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user to download their data.", messages.WARNING)
            return None
        return account_data_response(queryset.get())

    def delete_model(self, request, obj):
        services.delete_account(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.delete_account(user=user)
