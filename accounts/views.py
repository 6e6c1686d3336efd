"""Sign-up and the profile page (voice preferences, API token)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ApiTokenForm, PreferenceForm, SignupForm


@login_not_required
def signup(request):
    if request.user.is_authenticated:
        return redirect("conversations:talk")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! Press Start and say hello.")
        return redirect("conversations:talk")
    return render(request, "registration/signup.html", {"form": form})


@never_cache
def profile(request):
    preference = services.get_preference(user=request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your voice preferences are saved; they apply to your next session.")
        return redirect("accounts:profile")
    return _profile(request, form, ApiTokenForm())


def _profile(request, form: PreferenceForm, token_form: ApiTokenForm, status: int = 200):
    context = {
        "form": form,
        "token_form": token_form,
        "tokens": services.api_tokens(user=request.user),
        # Shown exactly once, right after it was created: only its hash is stored.
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "accounts/profile.html", context, status=status)


@require_POST
def create_token(request):
    token_form = ApiTokenForm(request.POST)
    if not token_form.is_valid():
        preference = services.get_preference(user=request.user)
        return _profile(request, PreferenceForm(instance=preference), token_form, status=400)
    request.session["new_api_token"] = services.create_api_token(
        user=request.user, name=token_form.cleaned_data["name"], lifetime=token_form.lifetime
    )
    messages.success(request, "A new API token was created. Copy it now: it will not be shown again.")
    return redirect("accounts:profile")


@require_POST
def revoke_token(request):
    if services.revoke_api_token(user=request.user, digest=request.POST.get("token", "")):
        messages.success(request, "The API token was revoked.")
    else:
        messages.info(request, "There was no such API token.")
    return redirect("accounts:profile")
