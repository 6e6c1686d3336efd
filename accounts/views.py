"""Sign-up and the profile page (voice preferences, API token)."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ApiTokenForm, PreferenceForm, SignupForm
from core.errors import ServiceError

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@login_not_required
def signup(request):
    """Sign-up as the operator set it (SIGNUP, SIGNUP_RATE per address, SIGNUP_VERIFY_EMAIL)."""
    if request.user.is_authenticated:
        return redirect("conversations:talk")
    if settings.SIGNUP == "closed":
        return render(
            request, "registration/signup_closed.html", status=403 if request.method == "POST" else 200
        )
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(form=form, ip=get_client_ip_address(request))
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return render(request, "registration/signup.html", {"form": form}, status=exc.status_code)
        if not user.is_active:
            services.send_confirmation(user=user, site_url=request.build_absolute_uri("/")[:-1])
            return render(request, "registration/signup_confirm_sent.html", {"email": user.email})
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, f"Welcome, {user.username}! Press Start and say hello.")
        return redirect("conversations:talk")
    return render(request, "registration/signup.html", {"form": form})


@login_not_required
@never_cache
def confirm_email(request, uidb64, token):
    """The link of the confirmation e-mail: a button (mail scanners open links), then logged in."""
    user = services.confirm_email(uidb64=uidb64, token=token, activate=request.method == "POST")
    if user is None:
        return render(request, "registration/signup_confirm_invalid.html", status=400)
    if request.method != "POST":
        return render(request, "registration/signup_confirm.html", {"confirmed_user": user})
    login(request, user, backend=MODEL_BACKEND)
    messages.success(request, f"Your e-mail address is confirmed. Welcome, {user.username}!")
    return redirect("conversations:talk")


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
