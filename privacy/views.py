"""Pages of the account's data: confirm and delete the account."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from conversations import selectors
from privacy import services
from privacy.forms import DeleteAccountForm


@never_cache
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """GET asks for the password; POST with the right one deletes the account and all its data."""
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid():
        services.delete_account(user=request.user)
        logout(request)
        request.session["account_deleted"] = True  # the new, anonymous session: shows the done page once
        return redirect("privacy:deleted")
    context = {"form": form, **selectors.account_counts(user=request.user)}
    return render(request, "privacy/account_confirm_delete.html", context, status=400 if form.errors else 200)


@login_not_required
@never_cache
def account_deleted(request):
    if not request.session.pop("account_deleted", False):
        return redirect("login")
    return render(request, "privacy/account_deleted.html")
