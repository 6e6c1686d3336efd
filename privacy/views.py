"""Pages of the account's data: prepare a download of it in the background; delete the account."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from conversations import selectors
from privacy import services
from privacy.forms import DeleteAccountForm
from privacy.models import DataExport

EXPIRED = "This download has expired. Prepare a new one from your profile."


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


@require_POST
def start_data_export(request):
    """Queue the preparation of a file of all the account's data, and show how it goes."""
    export = services.start_data_export(user=request.user)
    return redirect("privacy:export", pk=export.pk)


@never_cache
@require_GET
def data_export(request, pk):
    """ "Preparing your data…" with its progress (the page reloads itself), then the download link."""
    export = get_object_or_404(DataExport, pk=pk, user=request.user)
    return render(request, "privacy/data_export.html", {"export": export})


@never_cache
@require_GET
def download_data_export(request, pk):
    export = get_object_or_404(DataExport, pk=pk, user=request.user, status=DataExport.Status.READY)
    if export.expired:
        raise Http404(EXPIRED)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=services.export_filename(request.user, day=export.created_at),
        content_type="application/json",
    )
