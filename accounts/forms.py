"""Sign-up and preference forms."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Preference


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


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
