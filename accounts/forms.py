"""Sign-up, preference and API token forms."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UserCreationForm

from accounts.models import InviteCode, Preference
from accounts.validators import RevokeApiTokensOnPasswordChange


class SignupForm(UserCreationForm):
    """The sign-up form as SIGNUP and SIGNUP_VERIFY_EMAIL have it: an invite code field, a required
    e-mail address."""

    email = forms.EmailField(required=False, help_text="Optional; used only to reset your password.")
    invite_code = forms.CharField(max_length=32, help_text="The code you were sent with your invitation.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = [
            validator
            for validator in password_validation.get_default_password_validators()
            if not isinstance(validator, RevokeApiTokensOnPasswordChange)  # a new account has no tokens
        ]
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html(rules)
        if settings.SIGNUP != "invite":
            del self.fields["invite_code"]
        if settings.SIGNUP_VERIFY_EMAIL:
            self.fields["email"].required = True
            self.fields["email"].help_text = "We send a link to it to confirm your account."

    def clean_invite_code(self):
        code = self.cleaned_data["invite_code"].strip()
        if not InviteCode.objects.filter(code=code, used_by__isnull=True).exists():
            raise forms.ValidationError("This invite code does not exist or was already used.")
        return code


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ("voice", "language", "instructions")
        labels = {"instructions": "Extra instructions", "language": "Spoken language"}
        widgets = {"instructions": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = f"Default ({settings.REALTIME_VOICE.title()})"
        self.fields["voice"].choices = [("", default), *self.fields["voice"].choices[1:]]


class ApiTokenForm(forms.Form):
    LIFETIMES = {
        "30": timedelta(days=30),
        "90": timedelta(days=90),
        "365": timedelta(days=365),
        "never": None,
    }

    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “backup script”.")
    expires = forms.ChoiceField(
        label="Expires",
        initial="90",
        choices=[("30", "in 30 days"), ("90", "in 90 days"), ("365", "in a year"), ("never", "never")],
    )

    @property
    def lifetime(self) -> timedelta | None:
        return self.LIFETIMES[self.cleaned_data["expires"]]
